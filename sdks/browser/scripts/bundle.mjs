// Bundles the SDK for the script tag (IIFE, global `Herald`) and for ES-module imports,
// minified, and fails (exit 1) when the script-tag bundle is over 8 KiB gzipped.
import { build } from 'esbuild'
import { mkdirSync, writeFileSync } from 'node:fs'
import { fileURLToPath } from 'node:url'
import { gzipSync } from 'node:zlib'

export const BUDGET = 8192
const here = (p) => fileURLToPath(new URL(p, import.meta.url))

/** esbuild options shared by the build and the size test. Sources, not dist: no prior build needed. */
export function bundleOptions(format) {
  return {
    entryPoints: [here('../src/index.ts')],
    bundle: true,
    minify: true,
    format,
    globalName: format === 'iife' ? 'Herald' : undefined,
    target: 'es2020',
    platform: 'browser',
    alias: { '@herald/protocol': here('../../protocol/src/index.ts') },
    legalComments: 'none',
    write: false,
  }
}

/** Builds one bundle in memory; returns its text. */
export async function bundle(format) {
  const result = await build(bundleOptions(format))
  return result.outputFiles[0].text
}

async function main() {
  const out = here('../dist/bundle/')
  mkdirSync(out, { recursive: true })
  const iife = await bundle('iife')
  const esm = await bundle('esm')
  writeFileSync(out + 'herald.js', iife)
  writeFileSync(out + 'herald.mjs', esm)
  const size = gzipSync(iife, { level: 9 }).length
  console.log(`herald.js ${iife.length} B, ${size} B gzipped (budget ${BUDGET}); herald.mjs ${esm.length} B`)
  if (size > BUDGET) {
    console.error(`herald.js is over its size budget: ${size} > ${BUDGET} bytes gzipped`)
    process.exit(1)
  }
}

if (process.argv[1] === fileURLToPath(import.meta.url)) await main()
