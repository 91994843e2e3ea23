import { describe, expect, it } from 'vitest'
import type { AppStats } from '../api/types.js'
import { addSample } from './rates.js'

const s = (ts: number, published: number, delivered: number, connections = 1): AppStats => ({
  ts,
  connections,
  channels: 2,
  messagesPublished: published,
  messagesDelivered: delivered,
  nodes: 1,
})

describe('stats rates', () => {
  it('turns cumulative counters into per-second rates', () => {
    let w = addSample([], null, s(1000, 10, 20))
    expect(w[0]).toMatchObject({ publishedPerSecond: 0, deliveredPerSecond: 0, connections: 1, channels: 2 })
    w = addSample(w, s(1000, 10, 20), s(3000, 30, 80, 4))
    expect(w).toHaveLength(2)
    expect(w[1]).toMatchObject({ publishedPerSecond: 10, deliveredPerSecond: 30, connections: 4 })
  })

  it('treats a counter that went down as a restart', () => {
    const w = addSample([], s(1000, 500, 500), s(2000, 3, 6))
    expect(w[0]).toMatchObject({ publishedPerSecond: 3, deliveredPerSecond: 6 })
  })

  it('keeps a bounded window', () => {
    let w = addSample([], null, s(0, 0, 0))
    for (let i = 1; i < 10; i++) w = addSample(w, s((i - 1) * 1000, i - 1, 0), s(i * 1000, i, 0), 5)
    expect(w).toHaveLength(5)
    expect(w[4]!.ts).toBe(9000)
  })
})
