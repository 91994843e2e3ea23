import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { http, metric, scrape, sseAttempt, wsAttempt } from './support/attack.js'
import { createApp, publish, startHerald, type CreatedApp, type HeraldProcess } from './support/herald.js'
import { until, WsClient } from './support/ws-client.js'

/**
 * `/metrics` exposes the node's gauges and counters per app and transport, and they move as
 * clients connect, subscribe, receive, fail to authenticate and fall behind.
 */

let h: HeraldProcess
let app: CreatedApp
let other: CreatedApp
const clients: WsClient[] = []

beforeAll(async () => {
  // the smallest send buffer, so one stalled client is dropped quickly
  h = await startHerald({ env: { HERALD_SEND_BUFFER_BYTES: '16384' } })
  app = await createApp(h, { publishRatePerSecond: 1_000_000 }, 'observed')
  other = await createApp(h, {}, 'bystander')
})
afterAll(async () => {
  for (const c of clients) c.ws.terminate()
  await h?.stop()
})

describe('/metrics', () => {
  it('counts connections and subscriptions per app and transport, up and down', async () => {
    const ws = `${h.wsUrl}/v1/apps/${app.appId}/ws`
    const a = await WsClient.connect(ws)
    const b = await WsClient.connect(ws)
    clients.push(a, b)
    await a.request({ op: 'subscribe', channel: 'm1' })
    await a.request({ op: 'subscribe', channel: 'm2' })
    await b.request({ op: 'subscribe', channel: 'm1' })
    const sse = new AbortController()
    const stream = fetch(`${h.url}/v1/apps/${app.appId}/sse?channels=m1,m2,m3`, { signal: sse.signal })
    await stream
    await until(async () => metric(await scrape(h), 'herald_connections', { app: app.appId, transport: 'sse' }) === 1, 10_000, 'sse connection counted')

    const s = await scrape(h)
    expect(metric(s, 'herald_connections', { app: app.appId, transport: 'websocket' })).toBe(2)
    expect(metric(s, 'herald_subscriptions', { app: app.appId, transport: 'websocket' })).toBe(3)
    expect(metric(s, 'herald_subscriptions', { app: app.appId, transport: 'sse' })).toBe(3)
    expect(metric(s, 'herald_connections', { app: other.appId })).toBe(0)

    // delivered: 3 subscribers on m1 (a, b, sse)
    const before = metric(s, 'herald_messages_delivered', { app: app.appId })
    for (let i = 0; i < 4; i++) expect((await publish(h, app, { channel: 'm1', data: i })).status).toBe(200)
    await until(() => a.messages('m1').length === 4 && b.messages('m1').length === 4)
    await until(async () => metric(await scrape(h), 'herald_messages_delivered', { app: app.appId }) - before === 12, 10_000, '12 deliveries counted')
    const after = await scrape(h)
    expect(metric(after, 'herald_messages_published_total', { app: app.appId, via: 'rest' })).toBe(4)
    expect(metric(after, 'herald_messages_accepted', { app: app.appId })).toBe(4)

    await a.request({ op: 'unsubscribe', channel: 'm2' })
    expect(metric(await scrape(h), 'herald_subscriptions', { app: app.appId, transport: 'websocket' })).toBe(2)
    a.close()
    b.close()
    sse.abort()
    await until(
      async () => {
        const t = await scrape(h)
        return metric(t, 'herald_connections', { app: app.appId }) === 0 && metric(t, 'herald_subscriptions', { app: app.appId }) === 0
      },
      10_000,
      'gauges back to 0',
    )
  })

  it('counts auth failures and rejected requests by transport and code', async () => {
    const base = await scrape(h)
    const fails = (s: typeof base, transport: string, code: string) => metric(s, 'herald_auth_failures_total', { app: app.appId, transport, code })
    await wsAttempt(`${h.wsUrl}/v1/apps/${app.appId}/ws?token=garbage`)
    await sseAttempt(`${h.url}/v1/apps/${app.appId}/sse?channels=a&token=garbage`)
    await fetch(`${h.url}/v1/apps/${app.appId}/poll?channels=a&wait=0&token=garbage`)
    await fetch(`${h.url}/v1/apps/${app.appId}/messages`, {
      method: 'POST',
      headers: { authorization: 'Bearer garbage', 'content-type': 'application/json' },
      body: '{"channel":"a","data":1}',
    })
    const s = await scrape(h)
    for (const transport of ['websocket', 'sse', 'longpoll', 'rest'])
      expect(fails(s, transport, 'unauthorized') - fails(base, transport, 'unauthorized'), transport).toBe(1)

    const c = await WsClient.connect(`${h.wsUrl}/v1/apps/${app.appId}/ws`)
    clients.push(c)
    await c.request({ op: 'publish', channel: 'x', data: 1 })
    await c.request({ op: 'nope' })
    // a client allowed to publish is counted as a WebSocket publish
    const { signToken } = await import('./support/herald.js')
    const p = await WsClient.connect(`${h.wsUrl}/v1/apps/${app.appId}/ws?token=${await signToken(app, { sub: 'p', cap: { '*': ['publish'] } })}`)
    clients.push(p)
    expect(await p.request({ op: 'publish', channel: 'x', data: 1 })).toMatchObject({ op: 'published' })
    const t = await scrape(h)
    expect(metric(t, 'herald_messages_published_total', { app: app.appId, via: 'websocket' })).toBe(1)
    expect(metric(t, 'herald_requests_rejected_total', { app: app.appId, transport: 'websocket', code: 'forbidden' })).toBe(1)
    expect(metric(t, 'herald_requests_rejected_total', { app: app.appId, transport: 'websocket', code: 'bad_request' })).toBe(1)
    c.close()
    p.close()
    await Promise.all([c.closed, p.closed])
  })

  it('counts a slow consumer drop', async () => {
    const slow = await WsClient.connect(`${h.wsUrl}/v1/apps/${app.appId}/ws`)
    clients.push(slow)
    await slow.request({ op: 'subscribe', channel: 'fast' })
    ;(slow.ws as any)._socket.pause()
    const drops = async () => metric(await scrape(h), 'herald_slow_consumer_drops_total', { app: app.appId, transport: 'websocket' })
    expect(await drops()).toBe(0)
    const payload = 'y'.repeat(60_000)
    for (let i = 0; i < 2000 && (await drops()) === 0; i++) {
      expect((await publish(h, app, { channel: 'fast', data: payload })).status).toBe(200)
    }
    expect(await drops()).toBe(1)
    await until(
      async () => metric(await scrape(h), 'herald_connections', { app: app.appId, transport: 'websocket' }) === 0,
      10_000,
      'the dropped connection to be gone',
    )
  })

  it('does not grow a series per made-up app id (unknown apps are counted as app="unknown")', async () => {
    const ids = Array.from({ length: 20 }, (_, i) => `app_madeUp${i}x${Date.now()}`)
    await Promise.all(
      ids.map(async (id, i) => {
        if (i % 3 === 0) await wsAttempt(`${h.wsUrl}/v1/apps/${id}/ws`)
        else if (i % 3 === 1) await sseAttempt(`${h.url}/v1/apps/${id}/sse?channels=a`)
        else await fetch(`${h.url}/v1/apps/${id}/poll?channels=a&wait=0`)
      }),
    )
    const s = await scrape(h)
    const seen = new Set(s.map((x) => x.labels.app).filter(Boolean))
    for (const id of ids) expect(seen.has(id), id).toBe(false)
    expect(metric(s, 'herald_requests_rejected_total', { app: 'unknown', code: 'not_found' })).toBeGreaterThanOrEqual(ids.length)
  })

  it("exposes the runtime under the standard process_ / nodejs_ names, and labels Herald's own only with apps and transports", async () => {
    const s = await scrape(h)
    const has = (name: string) => s.some((x) => x.name === name)
    // event-loop lag (the live value and the sampled percentiles), memory, heap, CPU, GC
    for (const name of [
      'nodejs_eventloop_lag_seconds',
      'nodejs_eventloop_lag_p99_seconds',
      'process_resident_memory_bytes',
      'nodejs_heap_size_used_bytes',
      'process_cpu_seconds_total',
    ]) {
      expect(has(name), name).toBe(true)
    }
    expect(metric(s, 'process_resident_memory_bytes')).toBeGreaterThan(1024 * 1024)
    expect(metric(s, 'nodejs_heap_size_used_bytes')).toBeGreaterThan(0)
    expect(metric(s, 'nodejs_eventloop_lag_seconds')).toBeGreaterThanOrEqual(0)
    expect((await http(h.url, 'GET', '/metrics')).text).toContain('# TYPE nodejs_gc_duration_seconds histogram')
    expect(
      s.some((x) => x.name.startsWith('herald_process_')),
      'the old herald_process_ names are gone',
    ).toBe(false)
    const labelNames = new Set(s.filter((x) => x.name.startsWith('herald_')).flatMap((x) => Object.keys(x.labels)))
    for (const l of labelNames) expect(['app', 'transport', 'code', 'via']).toContain(l)
  })
})
