import { createHmac } from 'node:crypto'
import Pusher from 'pusher'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { type CreatedApp, createApp, type HeraldProcess, signToken, startHerald } from './support/herald.js'
import { type Receiver, startReceiver } from './support/receiver.js'
import { connected, nextEvent, pusherClient, type PusherJs, pusherServer, startAuthServer } from './support/pusher.js'
import { until, WsClient } from './support/ws-client.js'

let h: HeraldProcess
let receiver: Receiver
const fast = { HERALD_WEBHOOK_BACKOFF_MS: '50', HERALD_WEBHOOK_MAX_BACKOFF_MS: '200', HERALD_WEBHOOK_BATCH_MS: '50' }

const admin = (path: string, init: RequestInit = {}) =>
  fetch(`${h.url}/admin/v1${path}`, {
    ...init,
    headers: { authorization: `Bearer ${h.adminToken}`, 'content-type': 'application/json', ...(init.headers ?? {}) },
  })

/** A receiver path of its own per test, so tests never see each other's POSTs. */
async function appWithHook(hook: Record<string, unknown> = {}, settings: Record<string, unknown> = {}): Promise<{ app: CreatedApp; r: Receiver }> {
  const r = await startReceiver()
  const app = await createApp(h, { webhooks: [{ url: r.url, ...hook }], ...settings })
  return { app, r }
}

function verifies(app: CreatedApp, hook: Receiver['calls'][number]): boolean {
  const pusher = new Pusher({ appId: app.appId, key: app.keyId, secret: app.secret, host: '127.0.0.1' })
  return pusher.webhook({ headers: hook.headers as Record<string, string>, rawBody: hook.rawBody }).isValid()
}

const ws = (app: CreatedApp, token?: string) => WsClient.connect(`${h.wsUrl}/v1/apps/${app.appId}/ws${token ? `?token=${token}` : ''}`)
const names = (r: Receiver) => r.events().map((e) => `${e.name}:${e.channel}${e.user_id ? ':' + e.user_id : ''}`)

beforeAll(async () => {
  receiver = await startReceiver()
  h = await startHerald({ env: fast })
})
afterAll(async () => {
  await h?.stop()
  await receiver?.close()
})

describe('webhook settings', () => {
  const cases: Array<[string, unknown, RegExp]> = [
    ['not http(s)', [{ url: 'ftp://example.com/hook' }], /settings\.webhooks\.0\.url/],
    ['an unknown event', [{ url: 'http://127.0.0.1:9/h', events: ['channel_occupied', 'nope'] }], /settings\.webhooks\.0\.events\.1/],
    ['more than 10', Array.from({ length: 11 }, (_, i) => ({ url: `http://127.0.0.1:9/${i}` })), /settings\.webhooks/],
    [
      'a link-local IPv4 host (metadata service)',
      [{ url: 'http://127.0.0.1:9/ok' }, { url: 'http://169.254.169.254/latest/meta-data' }],
      /settings\.webhooks\.1\.url: .*link-local/,
    ],
    ['a link-local IPv6 host', [{ url: 'http://[fe80::1]:8080/hook' }], /settings\.webhooks\.0\.url: .*link-local/],
    ['a link-local host in decimal', [{ url: 'http://2852039166/' }], /settings\.webhooks\.0\.url: .*link-local/],
  ]

  for (const [what, webhooks, field] of cases) {
    it(`refuses ${what} with bad_request naming the field, on create and on update, saving nothing`, async () => {
      const created = await admin('/apps', { method: 'POST', body: JSON.stringify({ name: 'bad', settings: { webhooks } }) })
      expect(created.status).toBe(400)
      const err = (await created.json()) as { error: { code: string; message: string } }
      expect(err.error.code).toBe('bad_request')
      expect(err.error.message).toMatch(field)

      const app = await createApp(h, { webhooks: [{ url: 'http://127.0.0.1:9/kept' }] })
      const patched = await admin(`/apps/${app.appId}`, { method: 'PATCH', body: JSON.stringify({ name: 'renamed', settings: { webhooks } }) })
      expect(patched.status).toBe(400)
      expect(((await patched.json()) as { error: { message: string } }).error.message).toMatch(field)
      const read = (await (await admin(`/apps/${app.appId}`)).json()) as { app: { name: string; settings: { webhooks: unknown } } }
      expect(read.app.name).toBe('test')
      expect(read.app.settings.webhooks).toEqual([{ url: 'http://127.0.0.1:9/kept' }])
    })
  }

  it('accepts loopback, private networks and names, with or without an event filter', async () => {
    const webhooks = [{ url: 'http://127.0.0.1:9/a' }, { url: 'https://10.0.0.5/b', events: ['member_added'] }, { url: 'http://localhost:9/c' }]
    const created = await admin('/apps', { method: 'POST', body: JSON.stringify({ name: 'ok', settings: { webhooks, clientEvents: true } }) })
    expect(created.status).toBe(201)
    expect(((await created.json()) as { app: { settings: unknown } }).app.settings).toMatchObject({ webhooks, clientEvents: true })
  })
})

describe('webhook delivery', () => {
  it('sends a test POST that the pusher library verifies, and logs it', async () => {
    const { app, r } = await appWithHook()
    const res = await admin(`/apps/${app.appId}/webhooks/test`, { method: 'POST' })
    expect(res.status).toBe(202)
    expect(await res.json()).toEqual({ queued: 1 })
    await until(() => r.delivered().length === 1, 10_000, 'the test POST')
    const hook = r.calls[0]!
    expect(hook.headers['content-type']).toBe('application/json')
    expect(hook.headers['x-pusher-key']).toBe(app.keyId)
    expect(hook.headers['x-pusher-signature']).toBe(createHmac('sha256', app.secret).update(hook.rawBody).digest('hex'))
    expect(verifies(app, hook)).toBe(true)
    expect(hook.body).toEqual({
      time_ms: expect.any(Number),
      events: [
        { name: 'channel_occupied', channel: 'herald-webhook-test' },
        { name: 'channel_vacated', channel: 'herald-webhook-test' },
      ],
    })
    // A wrong secret does not verify: the check is real.
    expect(verifies({ ...app, secret: app.secret + 'x' }, hook)).toBe(false)

    await until(async () => ((await (await admin(`/apps/${app.appId}/webhooks/deliveries`)).json()) as { deliveries: unknown[] }).deliveries.length === 1)
    const log = (await (await admin(`/apps/${app.appId}/webhooks/deliveries`)).json()) as { deliveries: Array<Record<string, unknown>>; pending: number }
    expect(log).toEqual({
      deliveries: [
        {
          id: expect.any(Number),
          at: expect.any(Number),
          url: r.url,
          events: ['channel_occupied', 'channel_vacated'],
          outcome: 'delivered',
          status: 200,
          attempt: 1,
          latencyMs: expect.any(Number),
        },
      ],
      pending: 0,
    })
    await r.close()
  })

  it('signs with the oldest live key, and with the next one once it is revoked', async () => {
    const { app, r } = await appWithHook()
    const second = (await (await admin(`/apps/${app.appId}/keys`, { method: 'POST', body: '{}' })).json()) as { key: { keyId: string; secret: string } }
    await admin(`/apps/${app.appId}/webhooks/test`, { method: 'POST' })
    await until(() => r.delivered().length === 1)
    expect(r.calls[0]!.headers['x-pusher-key']).toBe(app.keyId)
    expect((await admin(`/apps/${app.appId}/keys/${app.keyId}`, { method: 'DELETE' })).status).toBe(204)
    await admin(`/apps/${app.appId}/webhooks/test`, { method: 'POST' })
    await until(() => r.delivered().length === 2)
    expect(r.calls[1]!.headers['x-pusher-key']).toBe(second.key.keyId)
    expect(verifies({ ...app, keyId: second.key.keyId, secret: second.key.secret }, r.calls[1]!)).toBe(true)
    await r.close()
  })

  it('refuses the test button for an app without webhooks, and an unknown app', async () => {
    const app = await createApp(h)
    const res = await admin(`/apps/${app.appId}/webhooks/test`, { method: 'POST' })
    expect(res.status).toBe(400)
    expect(((await res.json()) as { error: { code: string; message: string } }).error).toMatchObject({
      code: 'bad_request',
      message: expect.stringMatching(/settings\.webhooks/),
    })
    expect((await admin('/apps/app_nope/webhooks/deliveries')).status).toBe(404)
  })

  it('delivers on the third try to a receiver that answers 500 twice, the same signed body each time', async () => {
    const { app, r } = await appWithHook()
    r.respond = (n) => (n <= 2 ? 500 : 200)
    expect((await admin(`/apps/${app.appId}/webhooks/test`, { method: 'POST' })).status).toBe(202)
    await until(() => r.delivered().length === 1, 15_000, 'the third attempt')
    expect(r.calls.map((x) => x.status)).toEqual([500, 500, 200])
    expect(new Set(r.calls.map((x) => x.rawBody)).size).toBe(1)
    expect(verifies(app, r.calls[2]!)).toBe(true)
    expect(names(r)).toEqual(['channel_occupied:herald-webhook-test', 'channel_vacated:herald-webhook-test'])
    await until(async () => ((await (await admin(`/apps/${app.appId}/webhooks/deliveries`)).json()) as { deliveries: unknown[] }).deliveries.length === 3)
    const log = (await (await admin(`/apps/${app.appId}/webhooks/deliveries`)).json()) as {
      deliveries: Array<{ outcome: string; status: number; attempt: number }>
    }
    expect(log.deliveries.map((d) => [d.outcome, d.status, d.attempt])).toEqual([
      ['delivered', 200, 3],
      ['retrying', 500, 2],
      ['retrying', 500, 1],
    ])
    const metrics = await (await fetch(`${h.url}/metrics`)).text()
    expect(metrics).toMatch(new RegExp(`herald_webhook_retries_total\\{app="${app.appId}"\\} 2`))
    expect(metrics).toMatch(new RegExp(`herald_webhook_deliveries_total\\{app="${app.appId}"\\} 1`))
    expect(metrics).toMatch(/# TYPE herald_webhook_queue_depth gauge/)
    await r.close()
  })
})

describe('a receiver that hangs', () => {
  it("delays neither another app's webhooks nor message delivery", async () => {
    const stuck = await appWithHook()
    stuck.r.respond = () => null
    const other = await appWithHook()
    const sub = await ws(stuck.app)
    await sub.request({ op: 'subscribe', channel: 'live' })
    expect((await admin(`/apps/${stuck.app.appId}/webhooks/test`, { method: 'POST' })).status).toBe(202)
    await until(() => stuck.r.held >= 1, 10_000, 'the stuck receiver to get its POST')
    expect((await admin(`/apps/${other.app.appId}/webhooks/test`, { method: 'POST' })).status).toBe(202)
    await until(() => other.r.delivered().length === 1, 10_000, "the other app's POST")
    const res = await fetch(`${h.url}/v1/apps/${stuck.app.appId}/messages`, {
      method: 'POST',
      headers: { authorization: stuck.app.basic, 'content-type': 'application/json' },
      body: JSON.stringify({ channel: 'live', data: 'still flowing' }),
    })
    expect(res.status).toBe(200)
    await sub.next((f) => f.op === 'message' && f.data === 'still flowing')
    // All the while the stuck receiver had not answered.
    expect(stuck.r.calls).toHaveLength(0)
    stuck.r.release(200)
    sub.close()
    await Promise.all([stuck.r.close(), other.r.close()])
  })
})

describe('webhook events from native clients', () => {
  it('channel_occupied for the first subscriber, subscription_count, channel_vacated after the last (WebSocket and SSE)', async () => {
    const { app, r } = await appWithHook()
    const a = await ws(app)
    await a.request({ op: 'subscribe', channel: 'room' })
    await until(() => names(r).includes('channel_occupied:room'), 10_000, 'channel_occupied')
    const sse = new AbortController()
    const stream = await fetch(`${h.url}/v1/apps/${app.appId}/sse?channels=room`, { signal: sse.signal })
    expect(stream.status).toBe(200)
    await until(() => r.events().some((e) => e.name === 'subscription_count' && e.subscription_count === 2), 10_000, 'subscription_count 2')
    a.close()
    await until(() => r.events().some((e) => e.name === 'subscription_count' && e.subscription_count === 1), 10_000, 'subscription_count 1')
    expect(names(r)).not.toContain('channel_vacated:room')
    sse.abort()
    await until(() => names(r).includes('channel_vacated:room'), 10_000, 'channel_vacated')
    const lifecycle = names(r).filter((n) => !n.startsWith('subscription_count'))
    expect(lifecycle).toEqual(['channel_occupied:room', 'channel_vacated:room'])
    for (const c of r.delivered()) expect(verifies(app, c)).toBe(true)
    await r.close()
  })

  it('member_added / member_removed once per user, not per connection', async () => {
    const { app, r } = await appWithHook({ events: ['member_added', 'member_removed'] })
    const cap = { 'presence-*': ['subscribe', 'presence'] }
    const u1a = await ws(app, await signToken(app, { sub: 'u1', cap }))
    const u1b = await ws(app, await signToken(app, { sub: 'u1', cap }))
    const u2 = await ws(app, await signToken(app, { sub: 'u2', cap }))
    for (const c of [u1a, u1b, u2]) await c.request({ op: 'subscribe', channel: 'presence-lobby' })
    await until(() => names(r).length === 2, 10_000, 'two member_added')
    expect(names(r).sort()).toEqual(['member_added:presence-lobby:u1', 'member_added:presence-lobby:u2'])
    u1a.close()
    u2.close()
    await until(() => names(r).includes('member_removed:presence-lobby:u2'), 10_000, 'member_removed u2')
    expect(names(r)).not.toContain('member_removed:presence-lobby:u1')
    u1b.close()
    await until(() => names(r).includes('member_removed:presence-lobby:u1'), 10_000, 'member_removed u1')
    expect(
      names(r)
        .filter((n) => n.startsWith('member_removed'))
        .sort(),
    ).toEqual(['member_removed:presence-lobby:u1', 'member_removed:presence-lobby:u2'])
    expect(r.events().every((e) => e.name === 'member_added' || e.name === 'member_removed')).toBe(true)
    await r.close()
  })

  it('gives each webhook only the events it asked for', async () => {
    const r1 = await startReceiver()
    const r2 = await startReceiver()
    const app = await createApp(h, { webhooks: [{ url: r1.url, events: ['channel_vacated'] }, { url: r2.url }] })
    const c = await ws(app)
    await c.request({ op: 'subscribe', channel: 'filtered' })
    await c.request({ op: 'unsubscribe', channel: 'filtered' })
    await until(() => names(r1).length === 1 && names(r2).includes('channel_vacated:filtered'), 10_000, 'both receivers')
    expect(names(r1)).toEqual(['channel_vacated:filtered'])
    expect(names(r2).filter((n) => !n.startsWith('subscription_count'))).toEqual(['channel_occupied:filtered', 'channel_vacated:filtered'])
    c.close()
    await Promise.all([r1.close(), r2.close()])
  })
})

describe('webhook events from Pusher clients (pusher-js)', () => {
  const clients: PusherJs[] = []
  const client = (app: CreatedApp, auth: { url: string; requests: string[]; close(): Promise<void> }, user?: string) => {
    const c = pusherClient(h.port, app, { auth, ...(user ? { user } : {}) })
    clients.push(c)
    return c
  }
  afterAll(() => {
    for (const c of clients) c.disconnect()
  })

  it('channel_occupied / channel_vacated and subscription_count from Pusher sockets, one channel with Herald clients', async () => {
    const { app, r } = await appWithHook()
    const auth = await startAuthServer(pusherServer(h.port, app), app)
    const p = client(app, auth)
    await connected(p)
    await nextEvent(p.subscribe('both-faces'), 'pusher:subscription_succeeded')
    await until(() => names(r).includes('channel_occupied:both-faces'), 10_000, 'channel_occupied')
    const herald = await ws(app)
    await herald.request({ op: 'subscribe', channel: 'both-faces' })
    await until(() => r.events().some((e) => e.name === 'subscription_count' && e.channel === 'both-faces' && e.subscription_count === 2), 10_000, 'count 2')
    p.unsubscribe('both-faces')
    await until(() => r.events().some((e) => e.name === 'subscription_count' && e.channel === 'both-faces' && e.subscription_count === 1), 10_000, 'count 1')
    herald.close()
    await until(() => names(r).includes('channel_vacated:both-faces'), 10_000, 'channel_vacated')
    expect(names(r).filter((n) => !n.startsWith('subscription_count'))).toEqual(['channel_occupied:both-faces', 'channel_vacated:both-faces'])
    for (const call of r.delivered()) expect(verifies(app, call)).toBe(true)
    await auth.close()
    await r.close()
  })

  it('member_added / member_removed once per user across Pusher sockets and a Herald socket', async () => {
    const { app, r } = await appWithHook({ events: ['member_added', 'member_removed'] })
    const auth = await startAuthServer(pusherServer(h.port, app), app)
    const ann1 = client(app, auth, 'ann')
    const ann2 = client(app, auth, 'ann')
    await Promise.all([connected(ann1), connected(ann2)])
    await nextEvent(ann1.subscribe('presence-mixed'), 'pusher:subscription_succeeded')
    await nextEvent(ann2.subscribe('presence-mixed'), 'pusher:subscription_succeeded')
    const heraldAnn = await ws(app, await signToken(app, { sub: 'ann', cap: { 'presence-*': ['subscribe', 'presence'] } }))
    await heraldAnn.request({ op: 'subscribe', channel: 'presence-mixed' })
    await until(() => names(r).includes('member_added:presence-mixed:ann'), 10_000, 'member_added')
    ann1.disconnect()
    heraldAnn.close()
    ann2.unsubscribe('presence-mixed')
    await until(() => names(r).includes('member_removed:presence-mixed:ann'), 10_000, 'member_removed')
    expect(names(r)).toEqual(['member_added:presence-mixed:ann', 'member_removed:presence-mixed:ann'])
    await auth.close()
    await r.close()
  })

  it('client_event with the data as text (a string as sent, anything else as JSON), the sender socket_id and user_id on presence channels', async () => {
    const { app, r } = await appWithHook({ events: ['client_event'] }, { clientEvents: true })
    const auth = await startAuthServer(pusherServer(h.port, app), app)
    const sender = client(app, auth, 'typist')
    const socketId = await connected(sender)
    const priv = sender.subscribe('private-notes')
    const privReady = nextEvent(priv, 'pusher:subscription_succeeded')
    const pres = sender.subscribe('presence-desk')
    await Promise.all([privReady, nextEvent(pres, 'pusher:subscription_succeeded')])
    priv.trigger('client-typing', { chars: 3 })
    pres.trigger('client-wave', 'hello')
    await until(() => r.events().length === 2, 10_000, 'two client_event')
    expect(r.events()).toEqual([
      { name: 'client_event', channel: 'private-notes', event: 'client-typing', data: '{"chars":3}', socket_id: socketId },
      { name: 'client_event', channel: 'presence-desk', event: 'client-wave', data: 'hello', socket_id: socketId, user_id: 'typist' },
    ])
    for (const call of r.delivered()) expect(verifies(app, call)).toBe(true)
    await auth.close()
    await r.close()
  })

  it('cache_miss when a subscriber of a cache channel finds no cached event', async () => {
    const { app, r } = await appWithHook({ events: ['cache_miss'] })
    const auth = await startAuthServer(pusherServer(h.port, app), app)
    const p = client(app, auth)
    await connected(p)
    const ch = p.subscribe('cache-prices')
    await nextEvent(ch, 'pusher:cache_miss')
    await until(() => names(r).includes('cache_miss:cache-prices'), 10_000, 'cache_miss')
    expect(names(r)).toEqual(['cache_miss:cache-prices'])
    await auth.close()
    await r.close()
  })
})

describe('webhooks across a crash (embedded)', () => {
  it('delivers after a kill -9 and a restart what was pending in the outbox', async () => {
    const r = await startReceiver()
    r.respond = () => 503
    const node = await startHerald({ env: { ...fast, HERALD_WEBHOOK_BACKOFF_MS: '200', HERALD_WEBHOOK_MAX_BACKOFF_MS: '400' } })
    try {
      const app = await createApp(node, { webhooks: [{ url: r.url }] })
      const call = (path: string) => fetch(`${node.url}/admin/v1${path}`, { method: 'POST', headers: { authorization: `Bearer ${node.adminToken}` } })
      expect((await call(`/apps/${app.appId}/webhooks/test`)).status).toBe(202)
      await until(() => r.calls.length >= 1, 10_000, 'a first (failed) attempt')
      const pending = r.calls[0]!.rawBody
      const metrics = await (await fetch(`${node.url}/metrics`)).text()
      expect(metrics).toMatch(new RegExp(`herald_webhook_queue_depth\\{app="${app.appId}"\\} 1`))
      await node.stop('SIGKILL')
      r.respond = () => 200
      const again = await startHerald({ env: fast, dataDir: node.dataDir, adminToken: node.adminToken })
      try {
        await until(() => r.delivered().length >= 1, 15_000, 'the pending POST after the restart')
        expect(r.delivered()[0]!.rawBody).toBe(pending)
        expect(verifies(app, r.delivered()[0]!)).toBe(true)
        expect(r.delivered()).toHaveLength(1)
        expect(names(r)).toEqual(['channel_occupied:herald-webhook-test', 'channel_vacated:herald-webhook-test'])
      } finally {
        await again.stop()
      }
    } finally {
      await node.stop('SIGKILL')
      await r.close()
    }
  })

  it('sends the channel_vacated of the sessions a SIGTERM closed, after the restart at the latest', async () => {
    const r = await startReceiver()
    const node = await startHerald({ env: fast })
    try {
      const app = await createApp(node, { webhooks: [{ url: r.url, events: ['channel_occupied', 'channel_vacated'] }] })
      const c = await WsClient.connect(`${node.wsUrl}/v1/apps/${app.appId}/ws`)
      await c.request({ op: 'subscribe', channel: 'graceful' })
      await until(() => names(r).includes('channel_occupied:graceful'), 10_000, 'channel_occupied')
      await node.stop('SIGTERM')
      const again = await startHerald({ env: fast, dataDir: node.dataDir, adminToken: node.adminToken })
      try {
        await until(() => names(r).includes('channel_vacated:graceful'), 15_000, 'channel_vacated')
        expect(names(r)).toEqual(['channel_occupied:graceful', 'channel_vacated:graceful'])
      } finally {
        await again.stop()
      }
    } finally {
      await node.stop('SIGKILL')
      await r.close()
    }
  })
})
