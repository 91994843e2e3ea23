import { createHash, createHmac } from 'node:crypto'
import Pusher from 'pusher'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { createApp, publish, signToken, startHerald, type CreatedApp, type HeraldProcess } from './support/herald.js'
import { connected, nextEvent, pusherClient, type PusherJs } from './support/pusher.js'
import { until, WsClient } from './support/ws-client.js'

/**
 * The Pusher HTTP API through the official `pusher` server library, against a real Herald
 * process: trigger, triggerBatch, get, terminateUserConnections, cross-protocol delivery to
 * Herald subscribers, and bad input refused whole with Pusher's status.
 */

let h: HeraldProcess
let app: CreatedApp
let small: CreatedApp

const client = (a: Pick<CreatedApp, 'appId' | 'keyId' | 'secret'>) => new Pusher({ appId: a.appId, key: a.keyId, secret: a.secret, host: '127.0.0.1', port: String(h.port), useTLS: false })
const wsUrl = (a: CreatedApp, token?: string) => `${h.wsUrl}/v1/apps/${a.appId}/ws${token ? `?token=${encodeURIComponent(token)}` : ''}`

async function history(a: CreatedApp, channel: string): Promise<Array<{ seq: number; name?: string; data: unknown }>> {
  const res = await fetch(`${h.url}/v1/apps/${a.appId}/channels/${encodeURIComponent(channel)}/messages`, { headers: { authorization: a.basic } })
  expect(res.status).toBe(200)
  return ((await res.json()) as { messages: Array<{ seq: number; name?: string; data: unknown }> }).messages
}

/**
 * The library's generic `post` JSON-encodes `body` itself; its typings say string. This sends an
 * arbitrary event body, as a client that does not check what it sends would.
 */
const postEvent = (c: Pusher, body: unknown) => c.post({ path: '/events', body: body as string })

/** The library's RequestError (status and plain-text body) of a call that must fail. */
async function refused(call: Promise<unknown>): Promise<{ status: number; body: string }> {
  try {
    await call
  } catch (err) {
    if (err instanceof Pusher.RequestError) return { status: err.status ?? 0, body: err.body ?? '' }
    throw err
  }
  throw new Error('the call was expected to fail')
}

async function subscribe(a: CreatedApp, channel: string, token?: string): Promise<WsClient> {
  const ws = await WsClient.connect(wsUrl(a, token))
  const reply = await ws.request({ op: 'subscribe', channel })
  expect(reply.op).toBe('subscribed')
  return ws
}

/** A raw request signed as the library signs (docs/pusher.md), with the parts a test wants to break. */
async function raw(a: CreatedApp, method: string, path: string, opts: { body?: string; md5Of?: string; timestamp?: number } = {}): Promise<Response> {
  const full = `/apps/${a.appId}${path}`
  const params: Record<string, string> = {
    auth_key: a.keyId,
    auth_timestamp: String(opts.timestamp ?? Math.floor(Date.now() / 1000)),
    auth_version: '1.0',
  }
  if (opts.body !== undefined) params.body_md5 = createHash('md5').update(opts.md5Of ?? opts.body).digest('hex')
  const query = Object.keys(params)
    .sort()
    .map((k) => `${k}=${params[k]}`)
    .join('&')
  const signature = createHmac('sha256', a.secret).update(`${method}\n${full}\n${query}`).digest('hex')
  return fetch(`${h.url}${full}?${query}&auth_signature=${signature}`, {
    method,
    body: opts.body,
    headers: opts.body === undefined ? {} : { 'content-type': 'application/json' },
  })
}

beforeAll(async () => {
  h = await startHerald()
  app = await createApp(h)
  small = await createApp(h, { maxMessageBytes: 1024, publishRatePerSecond: 100 })
})
afterAll(async () => {
  await h?.stop()
})

describe('trigger through the pusher library', () => {
  it('publishes to one channel: a Herald WebSocket subscriber gets it with name and mapped data, one seq, one history entry', async () => {
    const ws = await subscribe(app, 'orders')
    const res = await client(app).trigger('orders', 'order-placed', { id: 7, items: ['a'] })
    expect(res.status).toBe(200)
    expect(await res.json()).toEqual({})
    const m = await ws.next((f) => f.op === 'message')
    expect(m).toMatchObject({ channel: 'orders', seq: 1, name: 'order-placed', data: { id: 7, items: ['a'] } })
    expect(m.clientId).toBeUndefined()
    expect(await history(app, 'orders')).toMatchObject([{ seq: 1, name: 'order-placed', data: { id: 7, items: ['a'] } }])
    ws.close()
  })

  it('keeps a data string that is not JSON a string, and gives JSON text its value', async () => {
    const ws = await subscribe(app, 'strings')
    await client(app).trigger('strings', 'plain', 'hello there')
    await client(app).trigger('strings', 'number', '42')
    await until(() => ws.messages('strings').length === 2, 10_000, 'two messages')
    expect(ws.messages('strings').map((m) => m.data)).toEqual(['hello there', 42])
    ws.close()
  })

  it('publishes to many channels at once and answers the info asked for', async () => {
    const channels = ['multi-a', 'multi-b', 'presence-multi']
    const token = await signToken(app, { sub: 'ann', info: { name: 'Ann' }, cap: { '*': ['subscribe', 'presence'] } })
    const subs = await Promise.all([subscribe(app, 'multi-a'), subscribe(app, 'multi-b'), subscribe(app, 'presence-multi', token)])
    const res = await client(app).trigger(channels, 'ping', { n: 1 }, { info: 'subscription_count,user_count' })
    expect(await res.json()).toEqual({
      channels: {
        'multi-a': { subscription_count: 1 },
        'multi-b': { subscription_count: 1 },
        'presence-multi': { subscription_count: 1, user_count: 1 },
      },
    })
    for (const [i, ws] of subs.entries()) {
      const m = await ws.next((f) => f.op === 'message')
      expect(m).toMatchObject({ channel: channels[i], seq: 1, name: 'ping', data: { n: 1 } })
      ws.close()
    }
  })

  it('stores what the library encrypted for a private-encrypted channel untouched (Herald never sees the plain text)', async () => {
    const masterKey = Buffer.alloc(32, 7).toString('base64')
    const encrypting = new Pusher({ appId: app.appId, key: app.keyId, secret: app.secret, host: '127.0.0.1', port: String(h.port), useTLS: false, encryptionMasterKeyBase64: masterKey })
    await encrypting.trigger('private-encrypted-vault', 'secret', { pin: 1234 })
    const [m] = await history(app, 'private-encrypted-vault')
    expect(Object.keys(m?.data as object).sort()).toEqual(['ciphertext', 'nonce'])
    expect(JSON.stringify(m?.data)).not.toContain('1234')
  })

  it('shares one seq and one history with Herald REST publishes on the same channel', async () => {
    const ws = await subscribe(app, 'shared')
    await publish(h, app, { channel: 'shared', name: 'from-herald', data: { face: 'herald' } })
    await client(app).trigger('shared', 'from-pusher', { face: 'pusher' })
    await publish(h, app, { channel: 'shared', name: 'from-herald', data: { face: 'herald', n: 2 } })
    await until(() => ws.messages('shared').length === 3, 10_000, 'three messages')
    expect(ws.messages('shared').map((m) => [m.seq, m.name])).toEqual([
      [1, 'from-herald'],
      [2, 'from-pusher'],
      [3, 'from-herald'],
    ])
    expect((await history(app, 'shared')).map((m) => m.seq)).toEqual([1, 2, 3])
    ws.close()
  })

  it('triggerBatch publishes every event, in order, and answers per-event info', async () => {
    const ws = await subscribe(app, 'batch-a')
    const res = await client(app).triggerBatch([
      { channel: 'batch-a', name: 'first', data: { n: 1 } },
      { channel: 'batch-b', name: 'second', data: 'two' },
      { channel: 'batch-a', name: 'third', data: { n: 3 }, info: 'subscription_count' },
    ])
    expect(await res.json()).toEqual({ batch: [{}, {}, { subscription_count: 1 }] })
    await until(() => ws.messages('batch-a').length === 2, 10_000, 'two messages')
    expect(ws.messages('batch-a').map((m) => [m.seq, m.name, m.data])).toEqual([
      [1, 'first', { n: 1 }],
      [2, 'third', { n: 3 }],
    ])
    expect(await history(app, 'batch-b')).toMatchObject([{ seq: 1, name: 'second', data: 'two' }])
    ws.close()
  })

  it('sendToUser publishes to the user channel, which Herald names private-server-to-user:<id>', async () => {
    const token = await signToken(app, { sub: 'u-9', cap: { 'private-server-to-user:u-9': ['subscribe'] } })
    const ws = await subscribe(app, 'private-server-to-user:u-9', token)
    const res = await client(app).sendToUser('u-9', 'notice', { hi: true })
    expect(res.status).toBe(200)
    const m = await ws.next((f) => f.op === 'message')
    expect(m).toMatchObject({ channel: 'private-server-to-user:u-9', name: 'notice', data: { hi: true } })
    ws.close()
  })
})

describe('socket_id', () => {
  it('leaves that one pusher-js socket out, in trigger and in batch items; its neighbour and Herald subscribers get the event', async () => {
    const sockets: PusherJs[] = [pusherClient(h.port, app), pusherClient(h.port, app)]
    try {
      const [senderId] = await Promise.all(sockets.map((s) => connected(s)))
      const [sender, neighbour] = sockets.map((s) => s.subscribe('typing')) as [ReturnType<PusherJs['subscribe']>, ReturnType<PusherJs['subscribe']>]
      await Promise.all([nextEvent(sender, 'pusher:subscription_succeeded'), nextEvent(neighbour, 'pusher:subscription_succeeded')])
      const herald = await subscribe(app, 'typing')
      const atSender: string[] = []
      const atNeighbour: string[] = []
      for (const name of ['mine', 'mine-too', 'everyone']) {
        sender.bind(name, () => atSender.push(name))
        neighbour.bind(name, () => atNeighbour.push(name))
      }
      await client(app).trigger('typing', 'mine', { n: 1 }, { socket_id: senderId })
      await client(app).triggerBatch([{ channel: 'typing', name: 'mine-too', data: '2', socket_id: senderId }])
      await client(app).trigger('typing', 'everyone', { n: 3 })
      // in order per channel: once the sender has "everyone", the two before it were left out
      await until(() => atSender.includes('everyone') && atNeighbour.length === 3, 10_000, `deliveries ${JSON.stringify([atSender, atNeighbour])}`)
      expect(atSender).toEqual(['everyone'])
      expect(atNeighbour).toEqual(['mine', 'mine-too', 'everyone'])
      await until(() => herald.messages('typing').length === 3, 10_000, 'Herald subscriber')
      expect(herald.messages('typing').map((m) => m.name)).toEqual(['mine', 'mine-too', 'everyone'])
      herald.close()
    } finally {
      for (const s of sockets) s.disconnect()
    }
  })
})

describe('channel queries through the pusher library', () => {
  it('lists occupied channels, with user counts for presence channels, counting Herald subscribers', async () => {
    const ann = await signToken(app, { sub: 'ann', cap: { '*': ['subscribe', 'presence'] } })
    const bob = await signToken(app, { sub: 'bob', cap: { '*': ['subscribe', 'presence'] } })
    const subs = [
      await subscribe(app, 'lobby'),
      await subscribe(app, 'lobby'),
      await subscribe(app, 'presence-room', ann),
      await subscribe(app, 'presence-room', ann),
      await subscribe(app, 'presence-room', bob),
    ]
    subs.push(await subscribe(app, 'herald:only'))
    const all = (await (await client(app).get({ path: '/channels' })).json()) as { channels: Record<string, object> }
    expect(all.channels.lobby).toEqual({})
    expect(all.channels['presence-room']).toEqual({})
    // a Herald-only name is not a Pusher channel
    expect(all.channels['herald:only']).toBeUndefined()

    const presence = await client(app).get({ path: '/channels', params: { filter_by_prefix: 'presence-', info: 'user_count' } })
    expect(await presence.json()).toEqual({ channels: { 'presence-room': { user_count: 2 } } })

    const lobby = await client(app).get({ path: '/channels/lobby', params: { info: 'subscription_count' } })
    expect(await lobby.json()).toEqual({ occupied: true, subscription_count: 2 })
    const room = await client(app).get({ path: '/channels/presence-room', params: { info: 'subscription_count,user_count' } })
    expect(await room.json()).toEqual({ occupied: true, subscription_count: 3, user_count: 2 })
    const empty = await client(app).get({ path: '/channels/nobody-here' })
    expect(await empty.json()).toEqual({ occupied: false })

    const users = await client(app).get({ path: '/channels/presence-room/users' })
    const ids = ((await users.json()) as { users: Array<{ id: string }> }).users.map((u) => u.id).sort()
    expect(ids).toEqual(['ann', 'bob'])

    for (const ws of subs) ws.close()
    await until(async () => (await (await client(app).get({ path: '/channels/lobby' })).json() as { occupied: boolean }).occupied === false, 10_000, 'lobby vacated')
  })

  it('refuses user_count where there are no users', async () => {
    expect(await refused(client(app).get({ path: '/channels', params: { info: 'user_count' } }))).toMatchObject({ status: 400, body: expect.stringMatching(/presence-/) })
    expect(await refused(client(app).get({ path: '/channels/lobby', params: { info: 'user_count' } }))).toMatchObject({ status: 400 })
    expect(await refused(client(app).get({ path: '/channels/lobby/users' }))).toMatchObject({ status: 400 })
    expect(await refused(client(app).get({ path: '/channels/lobby', params: { info: 'colour' } }))).toMatchObject({ status: 400 })
  })
})

describe('terminateUserConnections', () => {
  it('is accepted for a valid user and refused for a key without rights on that user', async () => {
    const res = await client(app).terminateUserConnections('u-1')
    expect(res.status).toBe(200)
    expect(await res.json()).toEqual({})
    const limited = await createKey(app, { 'chat-*': ['publish'] })
    expect(await refused(client(limited).terminateUserConnections('u-1'))).toMatchObject({ status: 403 })
  })
})

async function createKey(a: CreatedApp, capability?: Record<string, string[]>): Promise<CreatedApp> {
  const res = await fetch(`${h.url}/admin/v1/apps/${a.appId}/keys`, {
    method: 'POST',
    headers: { authorization: `Bearer ${h.adminToken}`, 'content-type': 'application/json' },
    body: JSON.stringify(capability ? { capability } : {}),
  })
  expect(res.status).toBe(201)
  const { key } = (await res.json()) as { key: { keyId: string; secret: string } }
  return { appId: a.appId, keyId: key.keyId, secret: key.secret, basic: `Basic ${Buffer.from(`${key.keyId}:${key.secret}`).toString('base64')}` }
}

describe('bad input is refused whole, with the status Pusher uses, and publishes nothing', () => {
  it('401 for a bad signature, an unknown key and a revoked key; 404 for an unknown app', async () => {
    expect(await refused(client({ ...app, secret: 'not-the-secret' }).trigger('bad-sig', 'e', {}))).toMatchObject({ status: 401, body: expect.stringMatching(/Invalid signature/) })
    expect(await refused(client({ ...app, keyId: 'key_unknown' }).trigger('bad-sig', 'e', {}))).toMatchObject({ status: 401, body: expect.stringMatching(/Unknown auth_key/) })
    const revoked = await createKey(app)
    expect((await client(revoked).trigger('bad-sig', 'e', { ok: true })).status).toBe(200)
    const del = await fetch(`${h.url}/admin/v1/apps/${app.appId}/keys/${revoked.keyId}`, { method: 'DELETE', headers: { authorization: `Bearer ${h.adminToken}` } })
    expect(del.status).toBe(204)
    expect(await refused(client(revoked).trigger('bad-sig', 'e', {}))).toMatchObject({ status: 401, body: expect.stringMatching(/Unknown auth_key/) })
    expect(await refused(client({ ...app, appId: 'app_doesnotexist' }).trigger('bad-sig', 'e', {}))).toMatchObject({ status: 404 })
    expect((await history(app, 'bad-sig')).length).toBe(1)
  })

  it('401 for a stale timestamp and for a body that does not match body_md5', async () => {
    const body = JSON.stringify({ name: 'e', channel: 'stale', data: '{}' })
    const stale = await raw(app, 'POST', '/events', { body, timestamp: Math.floor(Date.now() / 1000) - 3600 })
    expect(stale.status).toBe(401)
    expect(await stale.text()).toMatch(/^Timestamp expired/)
    const md5 = await raw(app, 'POST', '/events', { body, md5Of: JSON.stringify({ name: 'e', channel: 'other', data: '{}' }) })
    expect(md5.status).toBe(401)
    expect(await md5.text()).toMatch(/body_md5/)
    const good = await raw(app, 'POST', '/events', { body })
    expect(good.status).toBe(200)
    expect((await history(app, 'stale')).length).toBe(1)
  })

  it('403 when the key may not publish to one of the channels: none of them gets the event', async () => {
    const limited = await createKey(app, { 'chat-*': ['publish'] })
    expect((await client(limited).trigger('chat-ok', 'e', {})).status).toBe(200)
    expect(await refused(client(limited).trigger(['chat-two', 'secret-channel'], 'e', {}))).toMatchObject({ status: 403 })
    expect(await history(app, 'chat-two')).toEqual([])
    expect(await history(app, 'secret-channel')).toEqual([])
  })

  it('413 for data over the app limit, on one channel and inside a batch', async () => {
    const big = 'x'.repeat(2000)
    expect(await refused(client(small).trigger(['big-a', 'big-b'], 'e', big))).toMatchObject({ status: 413 })
    expect(
      await refused(
        client(small).triggerBatch([
          { channel: 'big-a', name: 'fits', data: 'small' },
          { channel: 'big-b', name: 'too-big', data: big },
        ]),
      ),
    ).toMatchObject({ status: 413, body: expect.stringMatching(/batch\[1\]/) })
    expect(await history(small, 'big-a')).toEqual([])
    expect(await history(small, 'big-b')).toEqual([])
  })

  it('400 for more than 100 channels and more than 10 batch events', async () => {
    const channels = Array.from({ length: 101 }, (_, i) => `many-${i}`)
    // the library itself refuses 101 channels; its generic post sends what a non-checking client would
    const many = await refused(postEvent(client(app), { name: 'e', data: '{}', channels }))
    expect(many).toMatchObject({ status: 400, body: expect.stringMatching(/at most 100 channels/) })
    expect(await history(app, 'many-0')).toEqual([])
    const batch = Array.from({ length: 11 }, (_, i) => ({ channel: 'eleven', name: `e${i}`, data: '{}' }))
    expect(await refused(client(app).triggerBatch(batch))).toMatchObject({ status: 400, body: expect.stringMatching(/at most 10 events/) })
    expect(await history(app, 'eleven')).toEqual([])
  })

  it('400 for malformed events: no name, non-string data, bad channel, bad socket_id, reserved names, bad JSON', async () => {
    const c = client(app)
    const cases: unknown[] = [
      { data: '{}', channel: 'malformed' },
      { name: 'e', data: { not: 'a string' }, channel: 'malformed' },
      { name: 'e', data: '{}', channel: 'bad channel!' },
      { name: 'e', data: '{}', channel: 'no,commas' },
      { name: 'e', data: '{}', channel: 'herald:name' },
      { name: 'e', data: '{}', channels: ['malformed', 'malformed'] },
      { name: 'e', data: '{}', channel: 'malformed', socket_id: 'abc' },
      { name: 'pusher:subscription_succeeded', data: '{}', channel: 'malformed' },
      { name: 'e', data: '{}', channel: 'malformed', info: 'colour' },
    ]
    for (const body of cases) expect(await refused(postEvent(c, body))).toMatchObject({ status: 400 })
    const notJson = await raw(app, 'POST', '/events', { body: '{"name":' })
    expect(notJson.status).toBe(400)
    expect(await history(app, 'malformed')).toEqual([])
  })

  it('counts Pusher and Herald publishes against one rate: over it, 429 with Retry-After and nothing published', async () => {
    const limited = await createApp(h, { publishRatePerSecond: 10 })
    const tenChannels = Array.from({ length: 10 }, (_, i) => `rate-${i}`)
    const body = JSON.stringify({ name: 'e', data: '{}', channels: tenChannels })
    // Herald REST takes the whole second's budget, then the Pusher trigger must wait. Refill is
    // continuous, so a slow machine may refill between the two calls: try a few rounds, and
    // require at least one refusal.
    let refusal: { status: number; retryAfter: string | null; text: string } | undefined
    for (let round = 0; round < 5 && !refusal; round++) {
      const rest = await publish(h, limited, { messages: tenChannels.map((channel) => ({ channel, data: round })) })
      if (rest.status !== 200) continue
      const before = (await history(limited, 'rate-0')).length
      const res = await raw(limited, 'POST', '/events', { body })
      if (res.status === 200) continue
      refusal = { status: res.status, retryAfter: res.headers.get('retry-after'), text: await res.text() }
      expect((await history(limited, 'rate-0')).length).toBe(before)
    }
    expect(refusal).toMatchObject({ status: 429, retryAfter: expect.stringMatching(/^\d+$/), text: expect.stringMatching(/messages per second/) })
  })
})
