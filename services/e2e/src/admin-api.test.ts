import { CloseCodes } from '@herald/protocol'
import WebSocket from 'ws'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { createApp, publish, startHerald, type HeraldProcess } from './support/herald.js'
import { until, WsClient } from './support/ws-client.js'

let h: HeraldProcess
const admin = (path: string, init: RequestInit = {}) =>
  fetch(`${h.url}/admin/v1${path}`, {
    ...init,
    headers: { authorization: `Bearer ${h.adminToken}`, 'content-type': 'application/json', ...(init.headers ?? {}) },
  })

beforeAll(async () => {
  h = await startHerald({ env: { HERALD_HEARTBEAT_SECONDS: '1' } })
})
afterAll(async () => {
  await h?.stop()
})

describe('admin API', () => {
  it('creates, lists, reads, updates and deletes apps with validated settings', async () => {
    const created = await admin('/apps', { method: 'POST', body: JSON.stringify({ name: 'shop', settings: { historySize: 5 } }) })
    expect(created.status).toBe(201)
    const body = await created.json()
    expect(body.app).toMatchObject({ name: 'shop', settings: { historySize: 5, anonymousSubscribe: true, maxMessageBytes: 65536 } })
    expect(body.app.id).toMatch(/^app_[A-Za-z0-9_-]+$/)
    expect(body.key.keyId).toMatch(/^key_/)
    expect(Buffer.from(body.key.secret, 'base64url').length).toBeGreaterThanOrEqual(32)

    const list = await (await admin('/apps')).json()
    expect(list.apps.find((a: any) => a.id === body.app.id)).toMatchObject({ name: 'shop', connections: 0 })

    const bad = await admin(`/apps/${body.app.id}`, { method: 'PATCH', body: JSON.stringify({ settings: { historySize: -1 } }) })
    expect(bad.status).toBe(400)
    expect((await bad.json()).error.code).toBe('bad_request')
    const unknownSetting = await admin(`/apps/${body.app.id}`, { method: 'PATCH', body: JSON.stringify({ settings: { nope: 1 } }) })
    expect(unknownSetting.status).toBe(400)

    const upd = await admin(`/apps/${body.app.id}`, { method: 'PATCH', body: JSON.stringify({ name: 'shop2', settings: { maxMessageBytes: 100 } }) })
    expect(upd.status).toBe(200)
    expect((await upd.json()).app).toMatchObject({ name: 'shop2', settings: { maxMessageBytes: 100, historySize: 5 } })

    const read = await (await admin(`/apps/${body.app.id}`)).json()
    expect(read.keys).toHaveLength(1)
    expect(read.keys[0]).toMatchObject({ keyId: body.key.keyId, secret: body.key.secret })

    const del = await admin(`/apps/${body.app.id}`, { method: 'DELETE' })
    expect(del.status).toBe(204)
    expect((await admin(`/apps/${body.app.id}`)).status).toBe(404)
  })

  it('applies a changed setting at once', async () => {
    const app = await createApp(h)
    expect((await publish(h, app, { channel: 'c', data: 'x'.repeat(500) })).status).toBe(200)
    await admin(`/apps/${app.appId}`, { method: 'PATCH', body: JSON.stringify({ settings: { maxMessageBytes: 100 } }) })
    const res = await publish(h, app, { channel: 'c', data: 'x'.repeat(500) })
    expect(res.status).toBe(413)
    expect(res.body.error.code).toBe('too_large')
  })

  it('rejects requests without the admin token, or with a wrong one', async () => {
    expect((await fetch(`${h.url}/admin/v1/apps`)).status).toBe(401)
    const wrong = await fetch(`${h.url}/admin/v1/apps`, { headers: { authorization: 'Bearer nope' } })
    expect(wrong.status).toBe(401)
    expect((await wrong.json()).error.code).toBe('unauthorized')
  })

  it('reports live stats', async () => {
    const app = await createApp(h)
    const c = await WsClient.connect(`${h.wsUrl}/v1/apps/${app.appId}/ws`)
    await c.request({ op: 'subscribe', channel: 'stats' })
    await publish(h, app, { channel: 'stats', data: 1 })
    await c.next((f) => f.op === 'message')
    const s = await (await admin(`/apps/${app.appId}/stats`)).json()
    expect(s.stats).toMatchObject({ connections: 1, channels: 1, subscriptions: 1, messagesPublished: 1, messagesDelivered: 1, nodes: 1 })
    c.close()
  })
})

describe('CORS', () => {
  it('answers preflights and responses only for allowed origins', async () => {
    const app = await createApp(h, { allowedOrigins: ['https://good.example'] })
    const pre = await fetch(`${h.url}/v1/apps/${app.appId}/messages`, {
      method: 'OPTIONS',
      headers: { origin: 'https://good.example', 'access-control-request-method': 'POST', 'access-control-request-headers': 'authorization,content-type' },
    })
    expect(pre.status).toBe(204)
    expect(pre.headers.get('access-control-allow-origin')).toBe('https://good.example')
    expect(pre.headers.get('access-control-allow-headers')).toMatch(/Authorization/i)
    const evil = await fetch(`${h.url}/v1/apps/${app.appId}/messages`, { method: 'OPTIONS', headers: { origin: 'https://evil.example' } })
    expect(evil.headers.get('access-control-allow-origin')).toBeNull()
    const res = await fetch(`${h.url}/v1/apps/${app.appId}/channels/x/messages`, { headers: { origin: 'https://good.example', authorization: app.basic } })
    expect(res.headers.get('access-control-allow-origin')).toBe('https://good.example')
    const ws = await WsClient.open(`${h.wsUrl}/v1/apps/${app.appId}/ws`, { origin: 'https://evil.example' })
    expect((await ws.closed).code).toBe(CloseCodes.forbidden)
  })
})

describe('heartbeats', () => {
  it('drops a peer that stops answering pings', async () => {
    const app = await createApp(h)
    const ws = new WebSocket(`${h.wsUrl}/v1/apps/${app.appId}/ws`, { autoPong: false })
    const closed = new Promise<number>((resolve) => ws.on('close', (code) => resolve(code)))
    await new Promise((r) => ws.once('open', r))
    // A silent peer is terminated after two heartbeat intervals (1 s here): no close frame, 1006.
    expect(await closed).toBe(1006)
  })

  it('keeps a peer that answers pings', async () => {
    const app = await createApp(h)
    const c = await WsClient.connect(`${h.wsUrl}/v1/apps/${app.appId}/ws`)
    let pings = 0
    c.ws.on('ping', () => pings++)
    // Three heartbeats answered (the ws library pongs by itself): past the two intervals after which a silent peer is dropped.
    await until(() => pings >= 3, 10_000, 'three heartbeat pings')
    expect(await c.request({ op: 'ping' })).toMatchObject({ op: 'pong' })
    c.close()
  })
})
