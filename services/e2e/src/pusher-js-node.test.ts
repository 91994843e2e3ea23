import { PusherCloseCodes, PusherErrorCodes } from '@herald/protocol'
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest'
import { createApp, freePort, publish, startHerald, type CreatedApp, type HeraldProcess } from './support/herald.js'
import { connected, countingProxy, nextEvent, pusherClient, pusherServer, startAuthServer, type AuthServer, type PusherJs } from './support/pusher.js'
import { until, WsClient } from './support/ws-client.js'

/**
 * pusher-js 8 (its Node build, over `ws`) against a real Herald node: the Pusher Channels
 * protocol 7 as pusher-js apps use it.
 */

let h: HeraldProcess
let app: CreatedApp
let auth: AuthServer
const clients: PusherJs[] = []

function client(options: Parameters<typeof pusherClient>[2] = {}): PusherJs {
  const c = pusherClient(h.port, app, { auth, ...options })
  clients.push(c)
  return c
}

beforeAll(async () => {
  h = await startHerald()
  app = await createApp(h, { clientEvents: true })
  auth = await startAuthServer(pusherServer(h.port, app), app, { forge: (channel) => channel.includes('forged') })
})
afterEach(() => {
  for (const c of clients.splice(0)) c.disconnect()
})
afterAll(async () => {
  await auth?.close()
  await h?.stop()
})

describe('public channels', () => {
  it('connects with a Pusher socket id and receives what Herald REST publishes', async () => {
    const c = client()
    expect(await connected(c)).toMatch(/^\d+\.\d+$/)
    const channel = c.subscribe('news')
    await nextEvent(channel, 'pusher:subscription_succeeded')
    const got = nextEvent<{ text: string }>(channel, 'greeting')
    expect((await publish(h, app, { channel: 'news', name: 'greeting', data: { text: 'hello' } })).status).toBe(200)
    expect(await got).toEqual({ text: 'hello' })
  })
})

describe('private channels', () => {
  it('subscribes through the app auth endpoint and receives', async () => {
    const c = client()
    await connected(c)
    const channel = c.subscribe('private-orders')
    await nextEvent(channel, 'pusher:subscription_succeeded')
    const got = nextEvent(channel, 'created')
    await publish(h, app, { channel: 'private-orders', name: 'created', data: { id: 7 } })
    expect(await got).toEqual({ id: 7 })
  })

  it('refuses a forged signature with pusher:subscription_error and delivers nothing', async () => {
    const c = client()
    await connected(c)
    const channel = c.subscribe('private-forged')
    const error = await nextEvent<{ type: string; error: string; status: number }>(channel, 'pusher:subscription_error')
    expect(error).toMatchObject({ type: 'AuthError', status: 401 })
    const events: unknown[] = []
    channel.bind('leak', (d: unknown) => events.push(d))
    // The same socket still works: a second channel subscribes and receives, the refused one gets nothing.
    const ok = c.subscribe('private-after-refusal')
    await nextEvent(ok, 'pusher:subscription_succeeded')
    const got = nextEvent(ok, 'leak')
    await publish(h, app, { channel: 'private-forged', name: 'leak', data: 1 })
    await publish(h, app, { channel: 'private-after-refusal', name: 'leak', data: 2 })
    expect(await got).toBe(2)
    expect(events).toEqual([])
  })
})

interface Member {
  id: string
  info: { name: string }
}

/** Live connections of an app on the node (admin stats). */
async function liveConnections(a: CreatedApp): Promise<number> {
  const res = await fetch(`${h.url}/admin/v1/apps/${a.appId}/stats`, { headers: { authorization: `Bearer ${h.adminToken}` } })
  const body = (await res.json()) as { stats: { connections: number } }
  return body.stats.connections
}

describe('end-to-end encrypted channels', () => {
  it('deliver what the pusher library encrypted, and pusher-js decrypts it with the shared secret from the auth endpoint', async () => {
    const c = client()
    await connected(c)
    const vault = c.subscribe('private-encrypted-vault')
    await nextEvent(vault, 'pusher:subscription_succeeded')
    const got = nextEvent(vault, 'secret')
    await pusherServer(h.port, app).trigger('private-encrypted-vault', 'secret', { password: 'swordfish' })
    expect(await got).toEqual({ password: 'swordfish' })
    // Herald stored what the publisher encrypted, untouched: ciphertext and nonce, never the plain text.
    const res = await fetch(`${h.url}/v1/apps/${app.appId}/channels/private-encrypted-vault/messages?limit=1`, { headers: { authorization: app.basic } })
    const [stored] = ((await res.json()) as { messages: Array<{ data: { ciphertext: string; nonce: string } }> }).messages
    expect(Object.keys(stored!.data).sort()).toEqual(['ciphertext', 'nonce'])
    expect(JSON.stringify(stored)).not.toContain('swordfish')
  })
})

describe('presence channels', () => {
  it('lists members and tells member_added / member_removed once per user, not per socket', async () => {
    const observer = client({ user: 'obs' })
    await connected(observer)
    const room = observer.subscribe('presence-room')
    const members = await nextEvent<{ count: number; me: Member }>(room, 'pusher:subscription_succeeded')
    expect(members.count).toBe(1)
    expect(members.me).toEqual({ id: 'obs', info: { name: 'User obs' } })
    const added: string[] = []
    const removed: string[] = []
    room.bind('pusher:member_added', (m: Member) => added.push(m.id))
    room.bind('pusher:member_removed', (m: Member) => removed.push(m.id))

    const ann1 = client({ user: 'ann' })
    await connected(ann1)
    await nextEvent(ann1.subscribe('presence-room'), 'pusher:subscription_succeeded')
    await until(() => added.length === 1, 10_000, 'member_added ann')
    const ann2 = client({ user: 'ann' })
    await connected(ann2)
    const second = await nextEvent<{ count: number; each(cb: (m: Member) => void): void }>(ann2.subscribe('presence-room'), 'pusher:subscription_succeeded')
    const ids: string[] = []
    second.each((m) => ids.push(m.id))
    expect(ids.sort()).toEqual(['ann', 'obs'])
    expect(second.count).toBe(2)
    // A third user joining after the second socket of ann: the observer was told about ann once.
    const bob = client({ user: 'bob' })
    await connected(bob)
    await nextEvent(bob.subscribe('presence-room'), 'pusher:subscription_succeeded')
    await until(() => added.length === 2, 10_000, 'member_added bob')
    expect(added).toEqual(['ann', 'bob'])

    // ann leaves one socket: still a member. bob leaves: removed. ann's last socket: removed.
    const before = await liveConnections(app)
    ann1.disconnect()
    await until(async () => (await liveConnections(app)) === before - 1, 10_000, 'ann1 gone')
    bob.disconnect()
    await until(() => removed.length === 1, 10_000, 'member_removed bob')
    expect(removed).toEqual(['bob'])
    ann2.disconnect()
    await until(() => removed.length === 2, 10_000, 'member_removed ann')
    expect(removed).toEqual(['bob', 'ann'])
    expect((room as unknown as { members: { count: number } }).members.count).toBe(1)
  })
})

describe('client events', () => {
  it('reach the other subscribers, never the sender, with user_id on presence channels', async () => {
    const a = client({ user: 'a' })
    const b = client({ user: 'b' })
    await Promise.all([connected(a), connected(b)])
    const ca = a.subscribe('presence-chat')
    const cb = b.subscribe('presence-chat')
    await Promise.all([nextEvent(ca, 'pusher:subscription_succeeded'), nextEvent(cb, 'pusher:subscription_succeeded')])
    const atA: unknown[] = []
    ca.bind('client-typing', (d: unknown) => atA.push(d))
    const atB = new Promise<[unknown, unknown]>((resolve) => cb.bind('client-typing', (d: unknown, meta: unknown) => resolve([d, meta])))
    expect(ca.trigger('client-typing', { x: 1 })).toBe(true)
    expect(await atB).toEqual([{ x: 1 }, { user_id: 'a' }])
    // b answers; a gets it, and had not got its own event (it would have come first, same channel).
    cb.trigger('client-typing', { x: 2 })
    await until(() => atA.length === 1, 10_000, 'client event at a')
    expect(atA).toEqual([{ x: 2 }])
  })

  it('refuses client events on a public channel with pusher:error, and the socket stays usable', async () => {
    const a = client({ user: 'a' })
    const b = client({ user: 'b' })
    await Promise.all([connected(a), connected(b)])
    const errors: Array<{ data?: { code: number; message: string } }> = []
    a.connection.bind('error', (e: { data?: { code: number; message: string } }) => errors.push(e))
    const pub = a.subscribe('lobby')
    const pa = a.subscribe('private-ok')
    const pb = b.subscribe('private-ok')
    await Promise.all([
      nextEvent(pub, 'pusher:subscription_succeeded'),
      nextEvent(pa, 'pusher:subscription_succeeded'),
      nextEvent(pb, 'pusher:subscription_succeeded'),
    ])
    pub.trigger('client-nope', {})
    await until(() => errors.length === 1, 10_000, 'pusher:error')
    expect(errors[0]!.data).toMatchObject({ code: PusherErrorCodes.clientEventRejected, message: expect.stringContaining('private- and presence-') })
    const got = nextEvent(pb, 'client-still')
    pa.trigger('client-still', 'works')
    expect(await got).toBe('works')
    expect(a.connection.state).toBe('connected')
  })

  it('are refused when the app has clientEvents off', async () => {
    const off = await createApp(h, {})
    const offAuth = await startAuthServer(pusherServer(h.port, off), off)
    try {
      const a = pusherClient(h.port, off, { auth: offAuth })
      clients.push(a)
      await connected(a)
      const errors: Array<{ data?: { code: number; message: string } }> = []
      a.connection.bind('error', (e: { data?: { code: number; message: string } }) => errors.push(e))
      const ch = a.subscribe('private-x')
      await nextEvent(ch, 'pusher:subscription_succeeded')
      ch.trigger('client-x', 1)
      await until(() => errors.length === 1, 10_000, 'pusher:error')
      expect(errors[0]!.data).toMatchObject({ code: PusherErrorCodes.clientEventRejected, message: expect.stringContaining('clientEvents') })
    } finally {
      await offAuth.close()
    }
  })

  it('are limited by the app publish rate', async () => {
    const slow = await createApp(h, { clientEvents: true, publishRatePerSecond: 1 })
    const slowAuth = await startAuthServer(pusherServer(h.port, slow), slow)
    try {
      const a = pusherClient(h.port, slow, { auth: slowAuth })
      clients.push(a)
      await connected(a)
      const errors: Array<{ data?: { code: number; message: string } }> = []
      a.connection.bind('error', (e: { data?: { code: number; message: string } }) => errors.push(e))
      const ch = a.subscribe('private-rate')
      await nextEvent(ch, 'pusher:subscription_succeeded')
      for (let i = 0; i < 5; i++) ch.trigger('client-burst', i)
      await until(() => errors.length >= 1, 10_000, 'rate refusal')
      expect(errors[0]!.data).toMatchObject({ code: PusherErrorCodes.clientEventRejected, message: expect.stringContaining('per second') })
      expect(a.connection.state).toBe('connected')
    } finally {
      await slowAuth.close()
    }
  })
})

describe('user sign-in', () => {
  it('signs in, gets sendToUser messages on its own channel, and is closed by terminateUserConnections', async () => {
    const server = pusherServer(h.port, app)
    const c = client({ user: 'u7' })
    await connected(c)
    c.signin()
    const user = c.user as unknown as { serverToUserChannel: { subscribed: boolean } | null; user_data: { id: string } | null }
    await until(() => user.serverToUserChannel?.subscribed === true, 15_000, 'signed in and on #server-to-user-u7')
    expect(user.user_data).toEqual({ id: 'u7', name: 'User u7' })
    const got = nextEvent(c.user, 'notice')
    await server.sendToUser('u7', 'notice', { text: 'just for you' })
    expect(await got).toEqual({ text: 'just for you' })

    const other = client({ user: 'u8' })
    await connected(other)
    const errors: Array<{ error?: { data?: { code: number } } }> = []
    c.connection.bind('error', (e: { error?: { data?: { code: number } } }) => errors.push(e))
    await server.terminateUserConnections('u7')
    await until(() => c.connection.state === 'disconnected', 15_000, 'u7 terminated')
    expect(errors.some((e) => e.error?.data?.code === PusherCloseCodes.unauthorized)).toBe(true)
    expect(other.connection.state).toBe('connected')
  })
})

describe('cache channels', () => {
  it('give a new subscriber the last event first, or pusher:cache_miss', async () => {
    await publish(h, app, { channel: 'cache-prices', name: 'price', data: { v: 1 } })
    await publish(h, app, { channel: 'cache-prices', name: 'price', data: { v: 2 } })
    const c = client()
    await connected(c)
    const prices = c.subscribe('cache-prices')
    expect(await nextEvent(prices, 'price')).toEqual({ v: 2 })
    const empty = c.subscribe('private-cache-empty')
    await nextEvent(empty, 'pusher:cache_miss')
  })
})

describe('refused and ended connections', () => {
  it('refuses an unknown key inside the socket with 4001, and pusher-js does not retry', async () => {
    const proxy = await countingProxy(h.port)
    try {
      const c = pusherClient(proxy.port, { ...app, keyId: 'key_unknown' })
      clients.push(c)
      const errors: Array<{ error?: { data?: { code: number } } }> = []
      c.connection.bind('error', (e: { error?: { data?: { code: number } } }) => errors.push(e))
      await until(() => c.connection.state === 'disconnected', 15_000, 'disconnected')
      expect(errors.some((e) => e.error?.data?.code === PusherCloseCodes.appNotFound)).toBe(true)
      // pusher-js is disconnected (no retry timer); one connection attempt was made.
      expect(proxy.connections()).toBe(1)
    } finally {
      await proxy.close()
    }
  })

  it.each(['xhr_streaming', 'xhr_polling'] as const)('refuses an unknown key over %s the same way: 4001, pusher-js stops', async (transport) => {
    const c = pusherClient(h.port, { ...app, keyId: 'key_unknown' }, { transports: [transport] })
    clients.push(c)
    const errors: Array<{ error?: { data?: { code: number } } }> = []
    c.connection.bind('error', (e: { error?: { data?: { code: number } } }) => errors.push(e))
    await until(() => c.connection.state === 'disconnected', 15_000, 'disconnected')
    expect(errors.some((e) => e.error?.data?.code === PusherCloseCodes.appNotFound)).toBe(true)
  })

  it('counts both protocols against maxConnections: a full app refuses pusher-js with 4004, and it stops', async () => {
    const full = await createApp(h, { maxConnections: 1 })
    const herald = await WsClient.connect(`${h.wsUrl}/v1/apps/${full.appId}/ws`)
    try {
      const c = pusherClient(h.port, full)
      clients.push(c)
      const errors: Array<{ error?: { data?: { code: number } } }> = []
      c.connection.bind('error', (e: { error?: { data?: { code: number } } }) => errors.push(e))
      await until(() => c.connection.state === 'disconnected', 15_000, 'disconnected')
      expect(errors.some((e) => e.error?.data?.code === PusherCloseCodes.overConnectionQuota)).toBe(true)
    } finally {
      herald.close()
    }
  })

  it('closes the sockets of a deleted app with 4003', async () => {
    const doomed = await createApp(h)
    const c = pusherClient(h.port, doomed)
    clients.push(c)
    await connected(c)
    const errors: Array<{ error?: { data?: { code: number } } }> = []
    c.connection.bind('error', (e: { error?: { data?: { code: number } } }) => errors.push(e))
    await fetch(`${h.url}/admin/v1/apps/${doomed.appId}`, { method: 'DELETE', headers: { authorization: `Bearer ${h.adminToken}` } })
    await until(() => c.connection.state === 'disconnected', 15_000, 'disconnected')
    expect(errors.some((e) => e.error?.data?.code === PusherCloseCodes.appDisabled)).toBe(true)
  })

  it('closes the connections of a revoked key with 4001', async () => {
    const res = await fetch(`${h.url}/admin/v1/apps/${app.appId}/keys`, {
      method: 'POST',
      headers: { authorization: `Bearer ${h.adminToken}`, 'content-type': 'application/json' },
      body: '{}',
    })
    const { key } = (await res.json()) as { key: { keyId: string; secret: string } }
    const c = pusherClient(h.port, { ...app, keyId: key.keyId, secret: key.secret })
    clients.push(c)
    await connected(c)
    const errors: Array<{ error?: { data?: { code: number } } }> = []
    c.connection.bind('error', (e: { error?: { data?: { code: number } } }) => errors.push(e))
    await fetch(`${h.url}/admin/v1/apps/${app.appId}/keys/${key.keyId}`, { method: 'DELETE', headers: { authorization: `Bearer ${h.adminToken}` } })
    await until(() => c.connection.state === 'disconnected', 15_000, 'disconnected')
    expect(errors.some((e) => e.error?.data?.code === PusherCloseCodes.appNotFound)).toBe(true)
  })

  it('reconnects and resubscribes after a server restart', async () => {
    const port = await freePort()
    const first = await startHerald({ port })
    const a = await createApp(first)
    let second: HeraldProcess | undefined
    try {
      const c = pusherClient(port, a)
      clients.push(c)
      const before = await connected(c)
      const channel = c.subscribe('news')
      let subscribed = 0
      channel.bind('pusher:subscription_succeeded', () => subscribed++)
      await until(() => subscribed === 1, 10_000, 'subscribed')
      const states: string[] = []
      c.connection.bind('state_change', (s: { current: string }) => states.push(s.current))
      await first.stop()
      await until(() => states.includes('connecting') || states.includes('unavailable'), 15_000, 'pusher-js notices the close')
      second = await startHerald({ port, dataDir: first.dataDir, adminToken: first.adminToken })
      await until(() => c.connection.state === 'connected' && c.connection.socket_id !== before, 45_000, 'reconnected')
      await until(() => subscribed === 2, 15_000, 'resubscribed')
      const got = nextEvent(channel, 'after')
      await publish(second, a, { channel: 'news', name: 'after', data: 'restart' })
      expect(await got).toBe('restart')
    } finally {
      await first.stop()
      await second?.stop()
    }
  }, 90_000)
})
