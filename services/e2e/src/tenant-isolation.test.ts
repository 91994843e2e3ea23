import { CloseCodes } from '@herald/protocol'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { expectError, history, http, sseAttempt, startRedisServer, type RedisProcess } from './support/attack.js'
import { createApp, publish, signToken, startHerald, type CreatedApp, type HeraldProcess } from './support/herald.js'
import { until, WsClient } from './support/ws-client.js'

/**
 * Two tenants with the same channel names, on the in-process broker and on Redis: no path,
 * frame, cursor, presence query or admin route of one reveals or touches the other's data.
 */

let redis: RedisProcess | undefined
afterAll(async () => {
  await redis?.stop()
})

describe.each(['memory', 'redis'] as const)('tenant isolation (%s broker)', (broker) => {
  let h: HeraldProcess
  let a: CreatedApp
  let b: CreatedApp
  const admin = () => ({ authorization: `Bearer ${h.adminToken}` })
  const ws = (app: CreatedApp, token?: string) => `${h.wsUrl}/v1/apps/${app.appId}/ws${token ? `?token=${encodeURIComponent(token)}` : ''}`
  const capAll = { '*': ['subscribe', 'publish', 'presence', 'history'] }
  const open: WsClient[] = []

  beforeAll(async () => {
    const env: Record<string, string> = {}
    if (broker === 'redis') {
      redis ??= await startRedisServer()
      env.HERALD_REDIS_URL = redis.url
    }
    h = await startHerald({ env })
    a = await createApp(h, {}, 'tenant A')
    b = await createApp(h, {}, 'tenant B')
  })
  afterAll(async () => {
    for (const c of open) c.ws.terminate()
    await h?.stop()
  })

  const connect = async (url: string) => {
    const c = await WsClient.connect(url)
    open.push(c)
    return c
  }

  it('keeps messages, history and sequence numbers apart on identical channel names', async () => {
    const subA = await connect(ws(a))
    const subB = await connect(ws(b))
    await subA.request({ op: 'subscribe', channel: 'shared' })
    await subB.request({ op: 'subscribe', channel: 'shared' })
    for (const n of [1, 2, 3]) expect((await publish(h, a, { channel: 'shared', data: `A${n}` })).status).toBe(200)
    const pb = await publish(h, b, { channel: 'shared', data: 'B1' })
    expect(pb.body.messages[0].seq).toBe(1)
    // the same publisher id on both apps: each is a first publish in its own app
    const dupA = await publish(h, a, { channel: 'shared', data: 'A-dup', id: 'same-id' })
    const dupB = await publish(h, b, { channel: 'shared', data: 'B-dup', id: 'same-id' })
    expect(dupA.body.messages[0].seq).toBe(4)
    expect(dupB.body.messages[0].seq).toBe(2)
    await until(() => subA.messages().length === 4 && subB.messages().length === 2)
    // B-dup, the last publish, has reached subB: every publish has been fanned out by now (in order). Each
    // app's delivery count is then final, and a leak or a repeat would show as a delivery too many.
    const delivered = async (app: CreatedApp) =>
      (await http(h.url, 'GET', `/admin/v1/apps/${app.appId}/stats`, { headers: admin() })).json.stats.messagesDelivered
    expect([await delivered(a), await delivered(b)]).toEqual([4, 2])
    expect(subA.messages().map((m) => m.data)).toEqual(['A1', 'A2', 'A3', 'A-dup'])
    expect(subB.messages().map((m) => m.data)).toEqual(['B1', 'B-dup'])
    expect((await history(h, a, 'shared')).messages.map((m) => m.data)).toEqual(['A1', 'A2', 'A3', 'A-dup'])
    expect((await history(h, b, 'shared')).messages.map((m) => m.data)).toEqual(['B1', 'B-dup'])
    const histOverWs = await (await connect(ws(b, await signToken(b, { cap: capAll })))).request({ op: 'history', channel: 'shared' })
    expect(histOverWs.messages.map((m: any) => m.data)).toEqual(['B1', 'B-dup'])
  })

  it('keeps presence members and channel lists apart', async () => {
    const alice = await connect(ws(a, await signToken(a, { sub: 'alice', cap: capAll, info: { tenant: 'A' } })))
    const bob = await connect(ws(b, await signToken(b, { sub: 'bob', cap: capAll })))
    await alice.request({ op: 'subscribe', channel: 'presence-room' })
    await bob.request({ op: 'subscribe', channel: 'presence-room' })
    await alice.request({ op: 'subscribe', channel: 'only-in-a' })
    const membersB = await bob.request({ op: 'members', channel: 'presence-room' })
    expect(membersB.members).toEqual([{ clientId: 'bob' }])
    const restB = await http(h.url, 'GET', `/v1/apps/${b.appId}/channels/presence-room/presence`, { headers: { authorization: b.basic } })
    expect(restB.json).toEqual({ members: [{ clientId: 'bob' }], count: 1 })
    const restA = await http(h.url, 'GET', `/v1/apps/${a.appId}/channels/presence-room/presence`, { headers: { authorization: a.basic } })
    expect(restA.json).toEqual({ members: [{ clientId: 'alice', info: { tenant: 'A' } }], count: 1 })
    // bob never saw alice join
    expect(bob.frames.filter((f) => f.op === 'presence' && f.member.clientId === 'alice')).toEqual([])

    const listB = await http(h.url, 'GET', `/v1/apps/${b.appId}/channels`, { headers: { authorization: b.basic } })
    const namesB = listB.json.channels.map((c: any) => c.name)
    expect(namesB).not.toContain('only-in-a')
    const prefixB = await http(h.url, 'GET', `/v1/apps/${b.appId}/channels?prefix=only`, { headers: { authorization: b.basic } })
    expect(prefixB.json.channels).toEqual([])
    const listA = await http(h.url, 'GET', `/v1/apps/${a.appId}/channels?prefix=only`, { headers: { authorization: a.basic } })
    expect(listA.json.channels).toEqual([{ name: 'only-in-a', subscribers: 1 }])
  })

  it('counts stats per app', async () => {
    const sa = await http(h.url, 'GET', `/admin/v1/apps/${a.appId}/stats`, { headers: admin() })
    const sb = await http(h.url, 'GET', `/admin/v1/apps/${b.appId}/stats`, { headers: admin() })
    expect(sa.json.stats.messagesPublished).toBe(4)
    expect(sb.json.stats.messagesPublished).toBe(2)
  })

  it("a cursor or position of app A used on app B never yields A's messages", async () => {
    const first = await http(h.url, 'GET', `/v1/apps/${a.appId}/poll?channels=shared&rewind=4&wait=0`)
    expect(first.status).toBe(200)
    expect(first.json.messages.map((m: any) => m.data)).toEqual(['A1', 'A2', 'A3', 'A-dup'])
    // A's cursor at seq 0 of A's epoch: on A it replays, on B it must not
    const epochA = first.json.messages[0].epoch
    const { encodeCursor } = await import('@herald/protocol')
    const cursorA0 = encodeCursor({ shared: { epoch: epochA, seq: 0 } })
    const onA = await http(h.url, 'GET', `/v1/apps/${a.appId}/poll?channels=shared&wait=0&cursor=${encodeURIComponent(cursorA0)}`)
    expect(onA.json.messages.map((m: any) => m.data)).toEqual(['A1', 'A2', 'A3', 'A-dup'])
    const onB = await http(h.url, 'GET', `/v1/apps/${b.appId}/poll?channels=shared&wait=0&cursor=${encodeURIComponent(cursorA0)}`)
    expect(onB.status).toBe(200)
    for (const m of onB.json.messages) expect(String(m.data)).not.toMatch(/^A/)
    expect(onB.json.recovered).toEqual({ shared: false })

    const sse = await sseAttempt(`${h.url}/v1/apps/${b.appId}/sse?channels=shared`, {
      headers: { 'last-event-id': cursorA0 },
      until: (t) => t.includes('event: subscribed'),
    })
    expect(sse.status).toBe(200)
    expect(sse.text).not.toMatch(/"data":"A/)
    expect(sse.text).toMatch(/"recovered":false/)

    const c = await connect(ws(b))
    const sub = await c.request({ op: 'subscribe', channel: 'shared', since: { epoch: epochA, seq: 0 } })
    expect(sub).toMatchObject({ op: 'subscribed', recovered: false })
    // A replay follows `subscribed` before the reply to the next frame (frames are handled in order): ping, then look.
    expect(await c.request({ op: 'ping' })).toMatchObject({ op: 'pong' })
    expect(c.messages()).toEqual([])
  })

  it('the credentials of A open nothing of B', async () => {
    const tokenA = await signToken(a, { sub: 'alice', cap: capAll })
    for (const [method, path, body] of [
      ['POST', `/v1/apps/${b.appId}/messages`, JSON.stringify({ channel: 'shared', data: 'from A' })],
      ['GET', `/v1/apps/${b.appId}/channels/shared/messages`, undefined],
      ['GET', `/v1/apps/${b.appId}/channels/presence-room/presence`, undefined],
      ['GET', `/v1/apps/${b.appId}/channels`, undefined],
    ] as const) {
      for (const authorization of [a.basic, `Bearer ${tokenA}`]) {
        const res = await http(h.url, method, path, { headers: { authorization, 'content-type': 'application/json' }, ...(body ? { body } : {}) })
        expectError(res, 'unauthorized', `${method} ${path} with ${authorization.slice(0, 6)}`)
      }
    }
    const w = await WsClient.open(ws(b, tokenA))
    expect((await w.closed).code).toBe(CloseCodes.unauthorized)
    expect((await http(h.url, 'GET', `/v1/apps/${b.appId}/poll?channels=shared&wait=0&token=${tokenA}`)).status).toBe(401)
    expect((await history(h, b, 'shared')).messages.map((m) => m.data)).toEqual(['B1', 'B-dup'])
  })

  it("admin routes with swapped app ids neither reveal nor revoke the other's keys", async () => {
    const revoke = await http(h.url, 'DELETE', `/admin/v1/apps/${b.appId}/keys/${a.keyId}`, { headers: admin() })
    expectError(revoke, 'not_found', 'revoke A key through B')
    expect((await publish(h, a, { channel: 'still', data: 1 })).status).toBe(200)
    const readA = await http(h.url, 'GET', `/admin/v1/apps/${a.appId}`, { headers: admin() })
    expect(readA.json.keys.find((k: any) => k.keyId === a.keyId).revokedAt).toBeUndefined()
    const readB = await http(h.url, 'GET', `/admin/v1/apps/${b.appId}`, { headers: admin() })
    expect(readB.json.keys.map((k: any) => k.keyId)).toEqual([b.keyId])
    expect(JSON.stringify(readB.json)).not.toContain(a.secret)

    // changing B's settings leaves A alone
    const patch = await http(h.url, 'PATCH', `/admin/v1/apps/${b.appId}`, {
      headers: { ...admin(), 'content-type': 'application/json' },
      body: JSON.stringify({ settings: { anonymousSubscribe: false, maxMessageBytes: 1024 } }),
    })
    expect(patch.status).toBe(200)
    const anon = await connect(ws(a))
    expect(await anon.request({ op: 'subscribe', channel: 'free' })).toMatchObject({ op: 'subscribed' })
    expect((await publish(h, a, { channel: 'free', data: 'x'.repeat(2000) })).status).toBe(200)
  })

  it("deleting B closes B's connections only and keeps A's data", async () => {
    const onA = await connect(ws(a))
    await onA.request({ op: 'subscribe', channel: 'shared' })
    const onB = await connect(ws(b, await signToken(b, { sub: 'b', cap: capAll })))
    const del = await http(h.url, 'DELETE', `/admin/v1/apps/${b.appId}`, { headers: admin() })
    expect(del.status).toBe(204)
    expect((await onB.closed).code).toBe(CloseCodes.appGone)
    expect(await onA.request({ op: 'ping' })).toMatchObject({ op: 'pong' })
    await publish(h, a, { channel: 'shared', data: 'after B is gone' })
    await onA.next((f) => f.op === 'message' && f.data === 'after B is gone')
    expect((await history(h, a, 'shared')).messages.map((m) => m.data)).toEqual(['A1', 'A2', 'A3', 'A-dup', 'after B is gone'])
    // a new app does not inherit B's channels
    const c = await createApp(h, {}, 'tenant C')
    expect((await history(h, c, 'shared')).messages).toEqual([])
  })
})
