import { build } from 'esbuild'
import { fileURLToPath } from 'node:url'
import { gzipSync } from 'node:zlib'
import { describe, expect, it } from 'vitest'

describe('bundle size', () => {
  it('keeps the script-tag bundle (herald.js) within 8 KiB minified + gzipped', async () => {
    const script = '../scripts/bundle.mjs'
    const { bundle, BUDGET } = (await import(script)) as { bundle(format: string): Promise<string>; BUDGET: number }
    const iife = await bundle('iife')
    expect(iife).toMatch(/^("use strict";)?var Herald=/)
    const Herald = new Function(`${iife};return Herald`)() as Record<string, unknown>
    expect(typeof Herald.Client).toBe('function')
    expect(BUDGET).toBe(8192)
    expect(gzipSync(iife, { level: 9 }).length).toBeLessThanOrEqual(BUDGET)
  })

  it('is tree-shakable: an app importing one helper does not get the client', async () => {
    const result = await build({
      stdin: {
        contents: "import { decodeToken } from './index.ts'; console.log(decodeToken('a.b.c'))",
        resolveDir: fileURLToPath(new URL('.', import.meta.url)),
        loader: 'ts',
      },
      bundle: true,
      minify: true,
      format: 'esm',
      write: false,
      alias: { '@herald/protocol': fileURLToPath(new URL('../../protocol/src/index.ts', import.meta.url)) },
    })
    const code = result.outputFiles[0]!.text
    expect(code).toContain('atob')
    expect(code).not.toContain('EventSource')
    expect(code).not.toContain('WebSocket')
    expect(code.length).toBeLessThan(1000)
  })
})
