// Runs the workspace's drizzle-kit so that it loads this package's drizzle-orm.
// npm keeps drizzle-orm nested in services/push/node_modules (it has peers resolved here)
// while drizzle-kit is hoisted to the root, where it cannot find drizzle-orm on its own.
// Usage: node drizzle-kit.mjs generate --config drizzle.sqlite.config.ts
import { createRequire, register } from 'node:module'
import Module from 'node:module'
import path from 'node:path'
import { fileURLToPath, pathToFileURL } from 'node:url'

const here = import.meta.url
const localRequire = createRequire(here)

// ESM `import('drizzle-orm/…')` from drizzle-kit: resolve as if imported from this package.
register(
  'data:text/javascript,' +
    encodeURIComponent(`
      export async function resolve(specifier, context, next) {
        if (specifier === 'drizzle-orm' || specifier.startsWith('drizzle-orm/')) {
          return next(specifier, { ...context, parentURL: ${JSON.stringify(here)} })
        }
        return next(specifier, context)
      }`),
)

// CJS `require('drizzle-orm/…')` from drizzle-kit: same.
const localParent = new Module(fileURLToPath(here))
localParent.filename = fileURLToPath(here)
localParent.paths = Module._nodeModulePaths(path.dirname(localParent.filename))
const original = Module._resolveFilename
Module._resolveFilename = function (request, parent, ...rest) {
  const own = request === 'drizzle-orm' || request.startsWith('drizzle-orm/')
  return original.call(this, request, own ? localParent : parent, ...rest)
}

const bin = localRequire.resolve('drizzle-kit').replace(/index\.js$/, 'bin.cjs')
process.argv.splice(1, 1, bin)
await import(pathToFileURL(bin).href)
