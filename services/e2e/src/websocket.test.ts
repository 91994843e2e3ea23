import { CloseCodes } from '@herald/protocol'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { createApp, publish, signToken, startHerald, type CreatedApp, type HeraldProcess } from './support/herald.js'
import { until, WsClient } from './support/ws-client.js'

let h: HeraldProcess
let app: CreatedApp
const wsUrl = (a: CreatedApp, token?: string) => `${h.wsUrl}/v1/apps/${a.appId}/ws${token ? `?token=${encodeURIComponent(token)}` : ''}`

beforeAll(async () => {
  h = await startHerald()
  app = await createApp(h)
})
afterAll(async () => {
  await h?.stop()
})

describe('WebSocket subscribe and REST publish', () => {
  it('delivers a REST-published message in the contract shape', async () => {
    const c = await WsClient.connect(wsUrl(app))
    const sub = await c.request({ op: 'subscribe', channel: 'news' })
    expect(sub).toMatchObject({ op: 'subscribed', channel: 'news', seq: 0 })
    expect(sub.epoch).toMatch(/^e_/)
    const res = await publish(h, app, { channel: 'news', name: 'greeting', data: { text: 'hello' } })
    expect(res.status).toBe(200)
    const m = await c.next((f) => f.op === 'message')
    expect(m).toEqual({
      op: 'message',
      channel: 'news',
      id: res.body.messages[0].id,
      seq: 1,
      epoch: sub.epoch,
      name: 'greeting',
      data: { text: 'hello' },
      ts: expect.any(Number),
    })
    c.close()
  })

  it('resumes with since: exactly the missed messages, in order, once, before live ones', async () => {
    const c = await WsClient.connect(wsUrl(app))
    const sub = await c.request({ op: 'subscribe', channel: 'resume' })
    await publish(h, app, { channel: 'resume', data: 1 })
    const first = await c.next((f) => f.op === 'message')
    c.close()
    await c.closed
    for (const n of [2, 3, 4]) await publish(h, app, { channel: 'resume', data: n })
    const d = await WsClient.connect(wsUrl(app))
    const again = await d.request({ op: 'subscribe', channel: 'resume', since: { epoch: sub.epoch, seq: first.seq } })
    expect(again).toMatchObject({ op: 'subscribed', recovered: true, seq: 4 })
    await publish(h, app, { channel: 'resume', data: 5 })
    await until(() => d.messages('resume').length >= 4)
    expect(d.messages('resume').map((m) => m.data)).toEqual([2, 3, 4, 5])
    // the subscribed reply comes before the replayed messages
    expect(d.frames.findIndex((f) => f.op === 'subscribed')).toBeLessThan(d.frames.findIndex((f) => f.op === 'message'))
    d.close()
  })

  it('says recovered:false for an unknown epoch and positions at the head', async () => {
    const c = await WsClient.connect(wsUrl(app))
    await publish(h, app, { channel: 'gone', data: 1 })
    const r = await c.request({ op: 'subscribe', channel: 'gone', since: { epoch: 'e_old', seq: 1 } })
    expect(r).toMatchObject({ op: 'subscribed', recovered: false, seq: 1 })
    // A replay would come before a later message of the channel: publish one and wait for it.
    await publish(h, app, { channel: 'gone', data: 2 })
    await c.next((f) => f.op === 'message' && f.channel === 'gone')
    expect(c.messages('gone').map((m) => m.data)).toEqual([2])
    c.close()
  })

  it('rewinds the last N messages', async () => {
    for (const n of [1, 2, 3]) await publish(h, app, { channel: 'rw', data: n })
    const c = await WsClient.connect(wsUrl(app))
    await c.request({ op: 'subscribe', channel: 'rw', rewind: 2 })
    await until(() => c.messages('rw').length === 2)
    expect(c.messages('rw').map((m) => m.data)).toEqual([2, 3])
    c.close()
  })

  it('publishes from a client with a publish capability, and an idempotent id is delivered once', async () => {
    const token = await signToken(app, { sub: 'alice', cap: { 'room:*': ['subscribe', 'publish', 'history'] } })
    const c = await WsClient.connect(wsUrl(app, token))
    await c.request({ op: 'subscribe', channel: 'room:1' })
    const p1 = await c.request({ op: 'publish', channel: 'room:1', data: 'x', id: 'once-1' })
    const p2 = await c.request({ op: 'publish', channel: 'room:1', data: 'x', id: 'once-1' })
    expect(p1).toMatchObject({ op: 'published', channel: 'room:1', id: 'once-1', seq: 1 })
    expect(p2.seq).toBe(1)
    await until(() => c.messages('room:1').length >= 1)
    expect(c.messages('room:1')[0]!.clientId).toBe('alice')
    const hist = await c.request({ op: 'history', channel: 'room:1' })
    expect(hist.messages).toHaveLength(1)
    expect(c.messages('room:1')).toHaveLength(1)
    c.close()
  })
})

describe('presence', () => {
  it('joins and leaves once per clientId and lists members', async () => {
    const cap = { 'presence-*': ['presence'] as string[] }
    const a = await WsClient.connect(wsUrl(app, await signToken(app, { sub: 'ann', cap, info: { name: 'Ann' } })))
    const b = await WsClient.connect(wsUrl(app, await signToken(app, { sub: 'bob', cap })))
    await a.request({ op: 'subscribe', channel: 'presence-room' })
    await b.request({ op: 'subscribe', channel: 'presence-room' })
    const join = await a.next((f) => f.op === 'presence' && f.member.clientId === 'bob')
    expect(join).toEqual({ op: 'presence', channel: 'presence-room', action: 'join', member: { clientId: 'bob' } })
    const members = await a.request({ op: 'members', channel: 'presence-room' })
    expect(members.members.map((m: any) => m.clientId).sort()).toEqual(['ann', 'bob'])
    expect(members.members.find((m: any) => m.clientId === 'ann').info).toEqual({ name: 'Ann' })
    const rest = await fetch(`${h.url}/v1/apps/${app.appId}/channels/presence-room/presence`, { headers: { authorization: app.basic } })
    expect(await rest.json()).toMatchObject({ count: 2 })
    b.close()
    const leave = await a.next((f) => f.op === 'presence' && f.action === 'leave')
    expect(leave.member.clientId).toBe('bob')
    a.close()
  })

  it('refuses presence without sub', async () => {
    const c = await WsClient.connect(wsUrl(app, await signToken(app, { cap: { '*': ['presence'] } })))
    const r = await c.request({ op: 'subscribe', channel: 'presence-x' })
    expect(r).toMatchObject({ op: 'error', code: 'forbidden' })
    c.close()
  })
})

describe('bad input gets the contract code and the connection stays usable', () => {
  it('answers malformed frames without closing', async () => {
    const c = await WsClient.connect(wsUrl(app))
    c.send('{not json')
    expect(await c.next((f) => f.op === 'error')).toMatchObject({ code: 'bad_request' })
    expect(await c.request({ op: 'nope' })).toMatchObject({ op: 'error', code: 'bad_request' })
    expect(await c.request({ op: 'subscribe' })).toMatchObject({ op: 'error', code: 'bad_request' })
    expect(await c.request({ op: 'subscribe', channel: 'bad,name' })).toMatchObject({ op: 'error', code: 'bad_request' })
    expect(await c.request({ op: 'subscribe', channel: 'x'.repeat(165) })).toMatchObject({ op: 'error', code: 'bad_request' })
    expect(await c.request({ op: 'publish', channel: 'news', data: 1 })).toMatchObject({ op: 'error', code: 'forbidden' })
    expect(await c.request({ op: 'subscribe', channel: 'private-secret' })).toMatchObject({ op: 'error', code: 'forbidden' })
    expect(await c.request({ op: 'history', channel: 'news' })).toMatchObject({ op: 'error', code: 'forbidden' })
    expect(await c.request({ op: 'ping' })).toMatchObject({ op: 'pong' })
    c.close()
  })

  it('rejects an oversized message with too_large and publishes nothing', async () => {
    const small = await createApp(h, { maxMessageBytes: 100 })
    const token = await signToken(small, { cap: { '*': ['publish', 'subscribe', 'history'] } })
    const c = await WsClient.connect(wsUrl(small, token))
    expect(await c.request({ op: 'publish', channel: 'big', data: 'x'.repeat(200) })).toMatchObject({ op: 'error', code: 'too_large' })
    const res = await publish(h, small, { channel: 'big', data: 'x'.repeat(200) })
    expect(res).toMatchObject({ status: 413, body: { error: { code: 'too_large' } } })
    const hist = await c.request({ op: 'history', channel: 'big' })
    expect(hist.messages).toEqual([])
    c.close()
  })

  it(`closes a frame past the size limit with ${CloseCodes.frameTooLarge}`, async () => {
    const c = await WsClient.connect(wsUrl(app))
    c.send(JSON.stringify({ op: 'ping', pad: 'x'.repeat(1_100_000) }))
    expect((await c.closed).code).toBe(CloseCodes.frameTooLarge)
  })

  it(`closes an unknown app with ${CloseCodes.appGone} and a bad token with ${CloseCodes.unauthorized}`, async () => {
    const u = await WsClient.open(`${h.wsUrl}/v1/apps/app_nope/ws`)
    expect((await u.closed).code).toBe(CloseCodes.appGone)
    expect(u.frames[0]).toMatchObject({ op: 'error', code: 'not_found' })
    const forged = await WsClient.open(wsUrl(app, await signToken({ keyId: app.keyId, secret: 'wrong-secret' }, { sub: 'x' })))
    expect((await forged.closed).code).toBe(CloseCodes.unauthorized)
    const expired = await WsClient.open(wsUrl(app, await signToken(app, { exp: Math.floor(Date.now() / 1000) - 120 })))
    expect((await expired.closed).code).toBe(CloseCodes.unauthorized)
    expect(expired.frames[0]).toMatchObject({ op: 'error', code: 'token_expired' })
  })

  it('rejects alg none and a token of another app', async () => {
    const header = Buffer.from(JSON.stringify({ alg: 'none', kid: app.keyId })).toString('base64url')
    const body = Buffer.from(JSON.stringify({ exp: Math.floor(Date.now() / 1000) + 60, cap: { '*': ['publish'] } })).toString('base64url')
    const none = await WsClient.open(wsUrl(app, `${header}.${body}.`))
    expect((await none.closed).code).toBe(CloseCodes.unauthorized)
    const other = await createApp(h)
    const foreign = await WsClient.open(wsUrl(other, await signToken(app, { sub: 'x' })))
    expect((await foreign.closed).code).toBe(CloseCodes.unauthorized)
    const rest = await fetch(`${h.url}/v1/apps/${other.appId}/messages`, {
      method: 'POST',
      headers: { authorization: app.basic, 'content-type': 'application/json' },
      body: JSON.stringify({ channel: 'c', data: 1 }),
    })
    expect(rest.status).toBe(401)
  })

  it('rejects a batch with one bad message as a whole', async () => {
    const res = await publish(h, app, {
      messages: [
        { channel: 'batch', data: 1 },
        { channel: 'bad channel', data: 2 },
      ],
    })
    expect(res.status).toBe(400)
    expect(res.body.error.message).toMatch(/messages\[1\]/)
    const hist = await fetch(`${h.url}/v1/apps/${app.appId}/channels/batch/messages`, { headers: { authorization: app.basic } })
    expect((await hist.json()).messages).toEqual([])
    const ok = await publish(h, app, {
      messages: [
        { channel: 'batch', data: 1 },
        { channel: 'batch2', data: 2 },
      ],
    })
    expect(ok.body.messages.map((m: any) => m.seq)).toEqual([1, 1])
  })
})

describe('tenant isolation', () => {
  it('keeps channels, history, presence and keys apart', async () => {
    const a = await createApp(h, {}, 'A')
    const b = await createApp(h, {}, 'B')
    const onB = await WsClient.connect(wsUrl(b))
    await onB.request({ op: 'subscribe', channel: 'shared' })
    await publish(h, a, { channel: 'shared', data: 'for A only' })
    const histB = await fetch(`${h.url}/v1/apps/${b.appId}/channels/shared/messages`, { headers: { authorization: b.basic } })
    expect((await histB.json()).messages).toEqual([])
    const chA = await fetch(`${h.url}/v1/apps/${a.appId}/channels`, { headers: { authorization: a.basic } })
    expect((await chA.json()).channels).toEqual([])
    const chB = await fetch(`${h.url}/v1/apps/${b.appId}/channels`, { headers: { authorization: b.basic } })
    expect((await chB.json()).channels).toEqual([{ name: 'shared', subscribers: 1 }])
    const keysOfA = await fetch(`${h.url}/v1/apps/${b.appId}/channels/shared/messages`, { headers: { authorization: a.basic } })
    expect(keysOfA.status).toBe(401)
    // A's message would have reached B before B's own later one: publish that and wait for it.
    await publish(h, b, { channel: 'shared', data: 'for B' })
    await onB.next((f) => f.op === 'message')
    expect(onB.messages().map((m) => m.data)).toEqual(['for B'])
    onB.close()
  })
})

describe('revocation and app deletion', () => {
  it(`closes connections that used a revoked key with ${CloseCodes.unauthorized}, at once`, async () => {
    const a = await createApp(h)
    const other = await fetch(`${h.url}/admin/v1/apps/${a.appId}/keys`, {
      method: 'POST',
      headers: { authorization: `Bearer ${h.adminToken}`, 'content-type': 'application/json' },
      body: JSON.stringify({ label: 'second' }),
    }).then((r) => r.json())
    const viaRevoked = await WsClient.connect(wsUrl(a, await signToken(a, { sub: 'u1' })))
    const viaOther = await WsClient.connect(wsUrl(a, await signToken({ keyId: other.key.keyId, secret: other.key.secret }, { sub: 'u2' })))
    const anonymous = await WsClient.connect(wsUrl(a))
    const res = await fetch(`${h.url}/admin/v1/apps/${a.appId}/keys/${a.keyId}`, { method: 'DELETE', headers: { authorization: `Bearer ${h.adminToken}` } })
    expect(res.status).toBe(204)
    expect((await viaRevoked.closed).code).toBe(CloseCodes.unauthorized)
    expect(await viaOther.request({ op: 'ping' })).toMatchObject({ op: 'pong' })
    expect(await anonymous.request({ op: 'ping' })).toMatchObject({ op: 'pong' })
    const again = await WsClient.open(wsUrl(a, await signToken(a, { sub: 'u1' })))
    expect((await again.closed).code).toBe(CloseCodes.unauthorized)
    expect((await publish(h, a, { channel: 'x', data: 1 })).status).toBe(401)
    const read = await fetch(`${h.url}/admin/v1/apps/${a.appId}`, { headers: { authorization: `Bearer ${h.adminToken}` } }).then((r) => r.json())
    expect(read.keys.find((k: any) => k.keyId === a.keyId).revokedAt).toEqual(expect.any(String))
    viaOther.close()
    anonymous.close()
  })

  it(`closes the connections of a deleted app with ${CloseCodes.appGone}`, async () => {
    const a = await createApp(h)
    const c = await WsClient.connect(wsUrl(a))
    const res = await fetch(`${h.url}/admin/v1/apps/${a.appId}`, { method: 'DELETE', headers: { authorization: `Bearer ${h.adminToken}` } })
    expect(res.status).toBe(204)
    expect((await c.closed).code).toBe(CloseCodes.appGone)
    expect((await publish(h, a, { channel: 'x', data: 1 })).status).toBe(404)
  })
})

describe('shutdown', () => {
  it(`closes clients with ${CloseCodes.goingAway} on SIGTERM and exits cleanly`, async () => {
    const own = await startHerald()
    const a = await createApp(own)
    const c = await WsClient.connect(`${own.wsUrl}/v1/apps/${a.appId}/ws`)
    const exit = own.stop('SIGTERM')
    expect((await c.closed).code).toBe(CloseCodes.goingAway)
    expect(await exit).toEqual({ code: 0, signal: null })
  })
})
