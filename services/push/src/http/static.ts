import { readFileSync } from 'node:fs'
import { readFile } from 'node:fs/promises'
import { createRequire } from 'node:module'
import { dirname, extname, join, normalize, resolve, sep } from 'node:path'
import { fileURLToPath } from 'node:url'
import { Hono } from 'hono'

const TYPES: Record<string, string> = {
  '.html': 'text/html; charset=utf-8',
  '.js': 'text/javascript; charset=utf-8',
  '.mjs': 'text/javascript; charset=utf-8',
  '.css': 'text/css; charset=utf-8',
  '.json': 'application/json',
  '.svg': 'image/svg+xml',
  '.png': 'image/png',
  '.ico': 'image/x-icon',
  '.map': 'application/json',
  '.txt': 'text/plain; charset=utf-8',
}

/** The repository root, from this file (src/http or dist/http of services/push). */
export const REPO_ROOT = resolve(fileURLToPath(new URL('../../../../', import.meta.url)))

const require = createRequire(import.meta.url)

/**
 * The folder of a file a dependency exports (the browser SDK's bundle, the dashboard's build),
 * found through the package as Node resolves it; null while that package is not built. Looked
 * up again until found, so a build made after the start is served.
 */
function builtDir(specifier: string): () => string | null {
  let dir: string | null = null
  return () => {
    if (dir) return dir
    try {
      dir = dirname(require.resolve(specifier))
    } catch {
      return null
    }
    return dir
  }
}

export const DASHBOARD_CSP =
  "default-src 'self'; script-src 'self'; style-src 'self'; connect-src 'self' ws: wss:; img-src 'self' data:; font-src 'self'; object-src 'none'; base-uri 'self'; form-action 'self'; frame-ancestors 'none'"

/** Serves files under `dir` safely (no path escapes); `fallback` is served for unknown paths (SPA). */
async function serveFile(dir: string, rel: string, fallback?: string): Promise<{ body: Buffer; type: string; file: string } | null> {
  const root = resolve(dir)
  let file = normalize(join(root, rel))
  if (file !== root && !file.startsWith(root + sep)) return null
  if (rel === '' || rel.endsWith('/')) file = join(file, 'index.html')
  try {
    return { body: await readFile(file), type: TYPES[extname(file)] ?? 'application/octet-stream', file }
  } catch {
    if (!fallback) return null
    try {
      return { body: await readFile(join(root, fallback)), type: TYPES['.html']!, file: fallback }
    } catch {
      return null
    }
  }
}

/**
 * The browser SDK at `/sdk/herald.js` and `/sdk/herald.mjs`, the dashboard at `/dashboard/`
 * and the examples at `/examples/`. Files come from the built packages of this repository.
 */
export function staticRoutes() {
  const r = new Hono()
  const sdkDir = builtDir('@herald/client/bundle/herald.js')
  const dashboardDir = builtDir('@herald/dashboard/dist/index.html')
  const examplesDir = join(REPO_ROOT, 'examples')

  r.get('/sdk/:file{herald\\.m?js(?:\\.map)?}', async (c) => {
    const dir = sdkDir()
    const f = dir && (await serveFile(dir, c.req.param('file')))
    if (!f) return c.json({ error: { code: 'not_found', message: 'the browser SDK is not built: run npm run build' } }, 404)
    return c.body(new Uint8Array(f.body), 200, {
      'Content-Type': f.type,
      'Cache-Control': 'public, max-age=300, stale-while-revalidate=86400',
      'Access-Control-Allow-Origin': '*',
      'X-Content-Type-Options': 'nosniff',
    })
  })

  r.get('/dashboard', (c) => c.redirect('/dashboard/', 301))
  r.get('/dashboard/*', async (c) => {
    const rel = decodeURIComponent(c.req.path.slice('/dashboard/'.length))
    // Client-side routes fall back to index.html; a missing file (a stale asset) is a 404.
    const dir = dashboardDir()
    const f = dir && (await serveFile(dir, rel, extname(rel) === '' ? 'index.html' : undefined))
    if (!f) return c.json({ error: { code: 'not_found', message: 'the dashboard is not built: run npm run build' } }, 404)
    const immutable = f.file.includes(`${sep}assets${sep}`)
    return c.body(new Uint8Array(f.body), 200, {
      'Content-Type': f.type,
      'Cache-Control': immutable ? 'public, max-age=31536000, immutable' : 'no-cache',
      'Content-Security-Policy': DASHBOARD_CSP,
      'X-Content-Type-Options': 'nosniff',
      'Referrer-Policy': 'no-referrer',
      'X-Frame-Options': 'DENY',
    })
  })

  r.get('/examples/*', async (c) => {
    const rel = decodeURIComponent(c.req.path.slice('/examples/'.length))
    const f = await serveFile(examplesDir, rel)
    if (!f) return c.json({ error: { code: 'not_found', message: 'no such example' } }, 404)
    return c.body(new Uint8Array(f.body), 200, { 'Content-Type': f.type, 'Cache-Control': 'no-cache', 'X-Content-Type-Options': 'nosniff' })
  })

  r.get('/', (c) =>
    c.json({
      name: 'Herald',
      docs: '/openapi.json',
      dashboard: dashboardDir() ? '/dashboard/' : 'not built',
      sdk: ['/sdk/herald.js', '/sdk/herald.mjs'],
    }),
  )
  return r
}

export function packageVersion(): string {
  try {
    return (JSON.parse(readFileSync(join(REPO_ROOT, 'services/push/package.json'), 'utf8')) as { version: string }).version
  } catch {
    return '0.0.0'
  }
}
