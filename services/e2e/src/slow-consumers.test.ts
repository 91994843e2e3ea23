import { CloseCodes } from '@herald/protocol'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { expectAlive, metric, rssBytes, scrape } from './support/attack.js'
import { createApp, publish, startHerald, type CreatedApp, type HeraldProcess } from './support/herald.js'
import { until, WsClient } from './support/ws-client.js'

/**
 * 1,000 subscribers that stop reading while messages of a few KB are published fast: the
 * server closes each one (CloseCodes.rateLimited, counted as a slow-consumer drop) once its send buffer passes
 * HERALD_SEND_BUFFER_BYTES, its memory stays bounded, and healthy subscribers get everything.
 */

const SLOW = 1000
const HEALTHY = 3
const SEND_BUFFER = 128 * 1024
/** A generous fixed bound on the server's RSS growth (no timing involved): each stalled socket may hold up to SEND_BUFFER plus one turn of frames (40 KB) before it is dropped, about 170 MB for 1,000. */
const RSS_GROWTH_BOUND = 300 * 1024 * 1024

let h: HeraldProcess
let app: CreatedApp
const clients: WsClient[] = []

beforeAll(async () => {
  h = await startHerald({ env: { HERALD_SEND_BUFFER_BYTES: String(SEND_BUFFER) } })
  app = await createApp(h, { publishRatePerSecond: 1_000_000, maxConnections: 5000, historySize: 10 })
})
afterAll(async () => {
  for (const c of clients) c.ws.terminate()
  await h?.stop()
})

describe('slow consumers', () => {
  it(`closes 1,000 stalled subscribers with ${CloseCodes.rateLimited}, keeps RSS bounded and healthy subscribers complete`, async () => {
    const url = `${h.wsUrl}/v1/apps/${app.appId}/ws`
    const slow: WsClient[] = []
    for (let i = 0; i < SLOW; i += 100) {
      const batch = await Promise.all(Array.from({ length: Math.min(100, SLOW - i) }, () => WsClient.connect(url)))
      for (const c of batch) {
        clients.push(c)
        slow.push(c)
      }
      await Promise.all(batch.map((c) => c.request({ op: 'subscribe', channel: 'firehose' })))
    }
    // stop reading: the kernel buffers fill, then the server's queue for that socket
    for (const c of slow) (c.ws as any)._socket.pause()
    const healthy: WsClient[] = []
    for (let i = 0; i < HEALTHY; i++) {
      const c = await WsClient.connect(url)
      clients.push(c)
      healthy.push(c)
      await c.request({ op: 'subscribe', channel: 'firehose' })
    }

    const pid = h.child.pid!
    const baseline = rssBytes(pid)
    let peak = baseline
    const sampler = setInterval(() => {
      try {
        peak = Math.max(peak, rssBytes(pid))
      } catch {}
    }, 50)

    const payload = 'x'.repeat(4_000)
    const drops = async () => metric(await scrape(h), 'herald_slow_consumer_drops_total', { app: app.appId, transport: 'websocket' })
    let sent = 0
    try {
      // 10 messages of 4 KB per request (40 KB per subscriber per turn, well under the bound)
      while ((await drops()) < SLOW) {
        const res = await publish(h, app, { messages: Array.from({ length: 10 }, (_, i) => ({ channel: 'firehose', data: { n: sent + i, payload } })) })
        expect(res.status, JSON.stringify(res.body)).toBe(200)
        sent += 10
        // a hard cap that is far past what the bound allows (each slow socket would hold ~100 MB by then)
        expect(sent).toBeLessThan(25_000)
      }
    } finally {
      clearInterval(sampler)
    }
    peak = Math.max(peak, rssBytes(pid))
    console.info(`slow consumers: ${sent} messages, server RSS ${Math.round(baseline / 2 ** 20)} MB -> peak ${Math.round(peak / 2 ** 20)} MB`)
    expect(peak - baseline, `RSS grew from ${baseline} to ${peak}`).toBeLessThan(RSS_GROWTH_BOUND)
    expect(await drops()).toBe(SLOW)

    // healthy subscribers got every message, in order, once
    for (const c of healthy) {
      await until(() => c.messages('firehose').length >= sent, 60_000, `healthy subscriber got ${c.messages('firehose').length} of ${sent}`)
      expect(c.messages('firehose').map((m) => m.data.n)).toEqual(Array.from({ length: sent }, (_, i) => i))
    }
    // the server let go of the stalled sockets: only the healthy ones are still counted
    await until(async () => metric(await scrape(h), 'herald_connections', { app: app.appId }) === HEALTHY, 20_000, 'slow connections to be gone')
    const stats = await fetch(`${h.url}/admin/v1/apps/${app.appId}/stats`, { headers: { authorization: `Bearer ${h.adminToken}` } }).then((r) => r.json())
    expect(stats.stats.connections).toBe(HEALTHY)

    await expectAlive(h)
  })
})

describe('a burst is not a slow consumer', () => {
  let own: HeraldProcess | undefined
  afterAll(async () => {
    await own?.stop()
  })

  it('a reading subscriber survives the largest legal batch (100 × 60 KB, more than the default 4 MiB send buffer)', async () => {
    own = await startHerald()
    const big = await createApp(own)
    const c = await WsClient.connect(`${own.wsUrl}/v1/apps/${big.appId}/ws`)
    clients.push(c)
    await c.request({ op: 'subscribe', channel: 'burst' })
    const res = await publish(own, big, { messages: Array.from({ length: 100 }, (_, i) => ({ channel: 'burst', data: { i, pad: 'x'.repeat(60_000) } })) })
    expect(res.status).toBe(200)
    await until(
      () => c.messages('burst').length === 100,
      30_000,
      `100 messages (got ${c.messages('burst').length}, frames ${JSON.stringify(c.frames.filter((f) => f.op !== 'message')).slice(0, 200)})`,
    )
    expect(c.messages('burst').map((m) => m.data.i)).toEqual(Array.from({ length: 100 }, (_, i) => i))
    expect(await c.request({ op: 'ping' })).toMatchObject({ op: 'pong' })
  })
  it('a reading SSE subscriber survives the largest legal batch too', async () => {
    own ??= await startHerald()
    const big = await createApp(own)
    const ac = new AbortController()
    const res = await fetch(`${own.url}/v1/apps/${big.appId}/sse?channels=burst`, { signal: ac.signal })
    expect(res.status).toBe(200)
    const reader = res.body!.getReader()
    let text = ''
    const read = (async () => {
      for (;;) {
        const { value, done } = await reader.read()
        if (done) return
        text += Buffer.from(value).toString('utf8')
      }
    })().catch(() => {})
    await until(() => text.includes('event: subscribed'), 10_000, 'subscribed')
    const pub = await publish(own, big, { messages: Array.from({ length: 100 }, (_, i) => ({ channel: 'burst', data: { i, pad: 'x'.repeat(60_000) } })) })
    expect(pub.status).toBe(200)
    const count = () => text.split('event: message').length - 1
    await until(() => count() === 100 || text.includes('event: error'), 30_000, `100 SSE messages (got ${count()})`)
    expect(text).not.toContain('event: error')
    expect(count()).toBe(100)
    ac.abort()
    await read
  })
})
