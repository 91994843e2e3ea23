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
})
