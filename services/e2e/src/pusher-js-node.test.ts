import type PusherJs from 'pusher-js'
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest'
import { createApp, publish, startHerald, type CreatedApp, type HeraldProcess } from './support/herald.js'
import { connected, nextEvent, pusherClient, pusherServer, startAuthServer, type AuthServer } from './support/pusher.js'
import { until } from './support/ws-client.js'

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
