import { describe, expect, it } from 'vitest'
import { Histogram, median } from './histogram.mjs'

describe('Histogram', () => {
  it('reports percentiles at 0.1 ms resolution and the exact max', () => {
    const h = new Histogram()
    for (let i = 1; i <= 100; i++) h.record(i)
    expect(h.count).toBe(100)
    expect(h.percentile(0.5)).toBe(50)
    expect(h.percentile(0.99)).toBe(99)
    expect(h.percentile(1)).toBe(100)
    expect(h.max).toBe(100)
  })

  it('merges the IPC form of other histograms', () => {
    const a = new Histogram()
    const b = new Histogram()
    a.record(1.24)
    b.record(3)
    b.record(70_000) // beyond the last bucket: clamped there, max stays exact
    const m = new Histogram().merge(JSON.parse(JSON.stringify(a.toJSON()))).merge(b.toJSON())
    expect(m.count).toBe(3)
    expect(m.percentile(0.01)).toBeCloseTo(1.2, 5)
    expect(m.percentile(0.6)).toBe(3)
    expect(m.max).toBe(70_000)
  })

  it('clamps negative latencies (clock skew) to zero and is NaN when empty', () => {
    const h = new Histogram()
    expect(h.percentile(0.5)).toBeNaN()
    h.record(-0.3)
    expect(h.percentile(0.5)).toBe(0)
  })
})

describe('median', () => {
  it('ignores NaN and averages the middle pair', () => {
    expect(median([3, 1, NaN, 2])).toBe(2)
    expect(median([4, 1, 3, 2])).toBe(2.5)
    expect(median([NaN])).toBeNaN()
  })
})
