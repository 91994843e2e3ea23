// The harness end to end against the baseline servers: real processes, real sockets.
import { afterEach, describe, expect, it } from 'vitest'
import { fanoutRun, idleRun, restRun } from './measure.mjs'
import { startBaselineHono, startBaselineWs } from './servers.mjs'

let server
afterEach(async () => {
  await server?.stop()
  server = undefined
})

describe('harness against the baselines', () => {
  it('counts every fan-out delivery over several load-client processes and measures latency and CPU', async () => {
    server = await startBaselineWs()
    const f = await fanoutRun(server, {
      transport: 'ws',
      subscribers: 120,
      channels: ['a', 'b', 'c'],
      mode: 'rate',
      rate: 30,
      duration: 1,
      payloadBytes: 100,
      warmup: 0.3,
      quietMs: 20_000,
    })
    expect(f.subscribers).toBe(120)
    expect(f.published).toBe(30)
    expect(f.expected).toBe(30 * 40)
    expect(f.received).toBe(f.expected)
    expect(f.losses).toBe(0)
    expect(f.p50).toBeGreaterThanOrEqual(0)
    expect(f.max).toBeGreaterThanOrEqual(f.p99)
    expect(f.firstP50).toBeLessThanOrEqual(f.p50)
    expect(f.cpuSeconds).toBeGreaterThanOrEqual(0)
  })

  it('floods with a fixed number of requests in flight and still loses nothing', async () => {
    server = await startBaselineWs()
    const f = await fanoutRun(server, {
      transport: 'ws',
      subscribers: 50,
      channels: ['bench'],
      mode: 'flood',
      concurrency: 4,
      duration: 1,
      payloadBytes: 100,
      warmup: 0,
      quietMs: 20_000,
    })
    expect(f.published).toBeGreaterThan(0)
    expect(f.received).toBe(f.published * 50)
  })

  it('holds idle connections and sees the server RSS grow', async () => {
    server = await startBaselineWs()
    const f = await idleRun(server, { connections: 300, settle: 0.5 })
    expect(f.connections).toBe(300)
    expect(f.rssPerConn).toBeGreaterThan(0)
  })

  it('drives the bare Hono route with autocannon', async () => {
    server = await startBaselineHono()
    const f = await restRun(server, { headers: {}, concurrency: 4, duration: 1, warmup: 0 })
    expect(f.ok).toBeGreaterThan(0)
    expect(f.ok).toBeGreaterThanOrEqual(f.requests - 4) // the last 4 were in flight at the stop
    expect(f.statuses).toMatchObject({ non2xx: 0, errors: 0 })
    expect(f.cpuPer1M).toBeGreaterThan(0)
  })
})
