// The harness against a real Herald process (services/push/dist/main.js, built by `npm test`).
import { afterEach, describe, expect, it } from 'vitest'
import { fanoutRun, restRun } from './measure.mjs'
import { signJwt } from './scenarios/rest.mjs'
import { startHerald } from './servers.mjs'

let server
afterEach(async () => {
  await server?.stop()
  server = undefined
})

describe('harness against Herald', () => {
  it('delivers every fan-out message over WebSocket to every subscriber', async () => {
    server = await startHerald()
    const f = await fanoutRun(server, {
      transport: 'ws',
      subscribers: 100,
      channels: ['a', 'b'],
      mode: 'rate',
      rate: 20,
      duration: 1,
      payloadBytes: 100,
      warmup: 0.3,
      quietMs: 20_000,
    })
    expect(f.subscribers).toBe(100)
    expect(f.published).toBe(20)
    expect(f.received).toBe(20 * 50)
    expect(f.closes).toEqual({})
  })

  it('accepts the bench JWT (HS256, kid, secret as UTF-8) and Basic auth on REST publish', async () => {
    server = await startHerald()
    const t = Math.floor(Date.now() / 1000)
    const jwt = signJwt(server.keyId, server.secret, { iat: t, exp: t + 600, sub: 'bench', cap: { '*': ['publish'] } })
    for (const authorization of [server.basic, 'Bearer ' + jwt]) {
      const f = await restRun(server, { headers: { authorization }, concurrency: 2, duration: 1, warmup: 0 })
      expect(f.ok).toBeGreaterThan(0)
      expect(f.statuses).toMatchObject({ non2xx: 0, errors: 0 })
    }
  })

  it.each(['sse', 'poll', 'pusher'])('delivers fan-out over %s', async (transport) => {
    server = await startHerald()
    const f = await fanoutRun(server, {
      transport,
      subscribers: 40,
      channels: ['bench'],
      mode: 'rate',
      rate: 10,
      duration: 1,
      payloadBytes: 100,
      warmup: 0,
      quietMs: 20_000,
    })
    expect(f.subscribers).toBe(40)
    expect(f.received).toBe(f.published * 40)
  })
})
