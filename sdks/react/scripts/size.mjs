// Measures what @herald/react adds to an app: its ES module bundled and minified, with
// React and @herald/client left out (the app has them anyway; the client is measured by
// its own package), and fails (exit 1) when that is over 3 KiB gzipped.
import { build } from 'esbuild'
import { fileURLToPath } from 'node:url'
import { gzipSync } from 'node:zlib'

export const BUDGET = 3072
const here = (p) => fileURLToPath(new URL(p, import.meta.url))

/** esbuild options shared by the build and the size test. Sources, not dist: no prior build needed. */
export function bundleOptions() {
  return {
    entryPoints: [here('../src/index.ts')],
    bundle: true,
    minify: true,
    format: 'esm',
    target: 'es2020',
    platform: 'browser',
    external: ['react', 'react-dom', '@herald/client'],
    alias: { '@herald/protocol': here('../../protocol/src/index.ts') },
    legalComments: 'none',
    write: false,
  }
}

/** Bundles in memory; returns the minified text. */
export async function bundle() {
  const result = await build(bundleOptions())
  return result.outputFiles[0].text
}

async function main() {
  const code = await bundle()
  const size = gzipSync(code, { level: 9 }).length
  console.log(`@herald/react ${code.length} B minified, ${size} B gzipped (budget ${BUDGET}; React and @herald/client not included)`)
  if (size > BUDGET) {
    console.error(`@herald/react is over its size budget: ${size} > ${BUDGET} bytes gzipped`)
    process.exit(1)
  }
}

if (process.argv[1] === fileURLToPath(import.meta.url)) await main()
