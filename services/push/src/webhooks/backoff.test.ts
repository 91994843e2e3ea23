import { describe, expect, it } from 'vitest'
import { retryDelay } from './backoff.js'

describe('retryDelay', () => {
  const bounds = { baseMs: 1000, maxMs: 60_000 }

  it('doubles per failure between half and all of the exponential step', () => {
    expect([1, 2, 3, 4].map((n) => retryDelay(n, bounds, () => 0))).toEqual([500, 1000, 2000, 4000])
    expect([1, 2, 3, 4].map((n) => retryDelay(n, bounds, () => 1))).toEqual([1000, 2000, 4000, 8000])
  })

  it('is capped, and stays capped however many failures there were', () => {
    expect(retryDelay(7, bounds, () => 1)).toBe(60_000)
    expect(retryDelay(10_000, bounds, () => 1)).toBe(60_000)
    expect(retryDelay(10_000, bounds, () => 0)).toBe(30_000)
  })

  it('keeps retrying for at least 5 minutes with the defaults before the 10 minute window ends', () => {
    // Worst case (largest waits): the attempts made within 10 minutes still span over 5 minutes.
    let t = 0
    let n = 0
    while (t + retryDelay(n + 1, bounds, () => 1) <= 600_000) t += retryDelay(++n, bounds, () => 1)
    expect(t).toBeGreaterThan(300_000)
    expect(n).toBeGreaterThan(8)
  })
})
