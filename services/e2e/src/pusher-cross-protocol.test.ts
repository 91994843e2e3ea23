import { Client } from '@herald/client'
import type { Message, PresenceEvent } from '@herald/protocol'
import WebSocket from 'ws'
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest'
import { createApp, publish, signToken, startHerald, type CreatedApp, type HeraldProcess } from './support/herald.js'
import { connected, nextEvent, pusherClient, pusherServer, startAuthServer, type AuthServer, type PusherJs } from './support/pusher.js'
import { until } from './support/ws-client.js'

/**
 * One channel, two faces: a Pusher subscriber (pusher-js) and a Herald SDK subscriber
 * (@herald/client) on the same channel see the same messages in the same order, with one seq;
 * presence is shared both ways.
 */

let h: HeraldProcess
let app: CreatedApp
let auth: AuthServer
const pushers: PusherJs[] = []
const heralds: Client[] = []

beforeAll(async () => {
  h = await startHerald()
  app = await createApp(h, { clientEvents: true })
  auth = await startAuthServer(pusherServer(h.port, app), app)
})
afterEach(() => {
  for (const p of pushers.splice(0)) p.disconnect()
  for (const c of heralds.splice(0)) c.close()
})
afterAll(async () => {
  await auth?.close()
  await h?.stop()
})

async function heraldClient(sub: string, info?: Record<string, unknown>): Promise<Client> {
  const token = await signToken(app, { sub, info, cap: { '*': ['subscribe', 'publish', 'presence', 'history'] } })
  const c = new Client({
    url: h.url,
    appId: app.appId,
    token,
    transports: ['websocket'],
    env: { WebSocket: WebSocket as unknown as typeof globalThis.WebSocket },
  })
  heralds.push(c)
  return c
}

function pusher(user: string): PusherJs {
  const p = pusherClient(h.port, app, { auth, user })
  pushers.push(p)
  return p
}

describe('one channel, two faces', () => {
  it('Herald REST and a Pusher client event reach both faces in one order, with one seq', async () => {
    const herald = await heraldClient('h1')
    const got: Message[] = []
    const sub = herald.subscribe('presence-mix', (m: Message) => got.push(m))
    await new Promise((resolve) => sub.on('subscribed', resolve))
    const sender = pusher('sender')
    const watcher = pusher('watcher')
    await Promise.all([connected(sender), connected(watcher)])
    const sc = sender.subscribe('presence-mix')
    const wc = watcher.subscribe('presence-mix')
    await Promise.all([nextEvent(sc, 'pusher:subscription_succeeded'), nextEvent(wc, 'pusher:subscription_succeeded')])
    const atWatcher: Array<[string, unknown]> = []
    wc.bind_global((event: string, data: unknown) => !event.startsWith('pusher') && atWatcher.push([event, data]))

    await publish(h, app, { channel: 'presence-mix', name: 'first', data: { n: 1 } })
    await until(() => atWatcher.length === 1, 10_000, 'first at the Pusher watcher')
    sc.trigger('client-second', { n: 2 })
    await until(() => atWatcher.length === 2, 10_000, 'client event at the Pusher watcher')
    await publish(h, app, { channel: 'presence-mix', name: 'third', data: 'three' })
    await until(() => got.length === 3 && atWatcher.length === 3, 10_000, 'all three on both faces')

    expect(atWatcher).toEqual([
      ['first', { n: 1 }],
      ['client-second', { n: 2 }],
      ['third', 'three'],
    ])
    expect(got.map((m) => [m.name, m.data, m.seq])).toEqual([
      ['first', { n: 1 }, 1],
      ['client-second', { n: 2 }, 2],
      ['third', 'three', 3],
    ])
    // The client event is Herald's message of the Pusher user (clientId = user_id), in history too.
    expect(got[1]!.clientId).toBe('sender')
    const history = await fetch(`${h.url}/v1/apps/${app.appId}/channels/presence-mix/messages?limit=10`, { headers: { authorization: app.basic } })
    expect(((await history.json()) as { messages: Message[] }).messages.map((m) => m.seq)).toEqual([1, 2, 3])
  })

  it('a Herald SDK publish reaches pusher-js with its data as pusher-js apps expect it', async () => {
    const herald = await heraldClient('h2')
    const p = pusher('p2')
    await connected(p)
    const channel = p.subscribe('private-sdk')
    await nextEvent(channel, 'pusher:subscription_succeeded')
    const got = nextEvent(channel, 'note')
    await herald.publish('private-sdk', { text: 'from the Herald SDK' }, { name: 'note' })
    expect(await got).toEqual({ text: 'from the Herald SDK' })
  })

  it('a Pusher trigger reaches the Herald SDK as Herald data, and Herald history has it', async () => {
    const herald = await heraldClient('h3')
    const got: Message[] = []
    const sub = herald.subscribe('orders', (m: Message) => got.push(m))
    await new Promise((resolve) => sub.on('subscribed', resolve))
    const p = pusher('p3')
    await connected(p)
    const channel = p.subscribe('orders')
    await nextEvent(channel, 'pusher:subscription_succeeded')
    const atPusher = nextEvent(channel, 'created')
    await pusherServer(h.port, app).trigger('orders', 'created', { id: 1, items: ['a'] })
    expect(await atPusher).toEqual({ id: 1, items: ['a'] })
    await until(() => got.length === 1, 10_000, 'trigger at the Herald SDK')
    expect(got[0]).toMatchObject({ channel: 'orders', name: 'created', data: { id: 1, items: ['a'] }, seq: 1 })
  })

  it('shares presence both ways: Pusher members see Herald members and Herald sees Pusher joins', async () => {
    const herald = await heraldClient('herald-user', { name: 'Hera' })
    const events: PresenceEvent[] = []
    const sub = herald.subscribe('presence-shared', () => {})
    sub.on('presence', (e: PresenceEvent) => events.push(e))
    await new Promise((resolve) => sub.on('subscribed', resolve))
    await until(async () => (await sub.members()).length === 1, 10_000, 'herald member')

    const p = pusher('pusher-user')
    await connected(p)
    const members = await nextEvent<{ count: number; get(id: string): { info: unknown } | null }>(
      p.subscribe('presence-shared'),
      'pusher:subscription_succeeded',
    )
    expect(members.count).toBe(2)
    expect(members.get('herald-user')).toEqual({ id: 'herald-user', info: { name: 'Hera' } })
    await until(() => events.some((e) => e.action === 'join' && e.member.clientId === 'pusher-user'), 10_000, 'Pusher join at Herald')
    expect(events.find((e) => e.member.clientId === 'pusher-user')!.member).toEqual({ clientId: 'pusher-user', info: { name: 'User pusher-user' } })
    const list = await sub.members()
    expect(list.map((m) => m.clientId).sort()).toEqual(['herald-user', 'pusher-user'])

    p.disconnect()
    await until(() => events.some((e) => e.action === 'leave' && e.member.clientId === 'pusher-user'), 10_000, 'Pusher leave at Herald')
  })
})
