import { describe, expect, it } from 'vitest'
import { Backoff } from './backoff.js'

describe('Backoff (full jitter)', () => {
  it('stays within [0, min(cap, base * 2^n)) and doubles the ceiling each time', () => {
    const high = new Backoff({ random: () => 0.999999 })
    expect([1, 2, 3, 4, 5, 6, 7, 8].map(() => high.next())).toEqual([499, 999, 1999, 3999, 7999, 15999, 19999, 19999])
    const low = new Backoff({ random: () => 0 })
    expect([1, 2, 3].map(() => low.next())).toEqual([0, 0, 0])
  })

  it('spreads random delays over the whole window', () => {
    const b = new Backoff({ base: 1000, cap: 1000 })
    const delays = Array.from({ length: 400 }, () => b.next())
    expect(Math.min(...delays)).toBeGreaterThanOrEqual(0)
    expect(Math.max(...delays)).toBeLessThan(1000)
    expect(delays.filter((d) => d < 500).length).toBeGreaterThan(100)
    expect(delays.filter((d) => d >= 500).length).toBeGreaterThan(100)
  })

  it('never exceeds the cap, even after many attempts', () => {
    const b = new Backoff({ random: () => 0.999999 })
    for (let i = 0; i < 100; i++) expect(b.next()).toBeLessThan(20_000)
  })

  it('starts over after reset', () => {
    const b = new Backoff({ random: () => 0.5 })
    for (let i = 0; i < 3; i++) b.next()
    b.reset()
    expect(b.next()).toBe(250)
  })
})
