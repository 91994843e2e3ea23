import { describe, expect, it } from 'vitest'
import { DEFAULT_SETTINGS, type Webhook } from '../apps/settings.js'
import type { App } from '../apps/types.js'
import { createLogger } from '../logger.js'
import type { WebhookBody } from './events.js'
import { FakeClock } from './fake-clock.js'
import { MemoryOccupancy } from './occupancy-memory.js'
import { DEFAULT_WEBHOOK_OPTIONS } from './options.js'
import { MemoryOutbox } from './outbox-memory.js'
import type { PostFn } from './post.js'
import { TEST_CHANNEL, Webhooks } from './webhooks.js'

function setup(webhooks: Webhook[]) {
  const clock = new FakeClock()
  const app: App = { id: 'app_1', name: 'a', createdAt: '', settings: { ...DEFAULT_SETTINGS, webhooks } }
  const posts: Array<{ url: string; body: WebhookBody }> = []
  const post: PostFn = async (url, body) => {
    posts.push({ url, body: JSON.parse(body) as WebhookBody })
    return { status: 200 }
  }
  const occupancy = new MemoryOccupancy()
  let gone: (appId: string, key: string) => void = () => {}
  occupancy.start = async (onGone) => {
    gone = onGone
  }
  const wh = new Webhooks({
    outbox: new MemoryOutbox(),
    occupancy,
    options: { ...DEFAULT_WEBHOOK_OPTIONS, batchMs: 50 },
    nodeId: 'n1',
    app: async (id) => (id === app.id ? app : null),
    signingKey: async () => ({ keyId: 'key_1', secret: 's' }),
    logger: createLogger('silent'),
    post,
    clock,
  })
  const session = { appId: app.id, app }
  const names = () => posts.flatMap((p) => p.body.events.map((e) => `${e.name}:${'user_id' in e ? e.user_id : e.channel}`))
  return { clock, app, posts, wh, session, names, gone: (k: string) => gone(app.id, k) }
}

describe('Webhooks', () => {
  it('sends one channel_occupied for the first subscriber and one channel_vacated after the last, batched', async () => {
    const t = setup([{ url: 'http://r/1' }])
    await t.wh.start()
    t.wh.subscribed(t.session, 'chat')
    t.wh.subscribed(t.session, 'chat')
    await t.clock.advance(50)
    expect(t.posts).toHaveLength(1)
    expect(t.posts[0]!.body).toEqual({
      time_ms: expect.any(Number),
      events: [
        { name: 'channel_occupied', channel: 'chat' },
        { name: 'subscription_count', channel: 'chat', subscription_count: 2 },
      ],
    })
    t.wh.unsubscribed(t.session, 'chat')
    await t.clock.advance(50)
    expect(t.posts[1]!.body.events).toEqual([{ name: 'subscription_count', channel: 'chat', subscription_count: 1 }])
    t.wh.unsubscribed(t.session, 'chat')
    await t.clock.advance(50)
    expect(t.posts[2]!.body.events).toEqual([
      { name: 'subscription_count', channel: 'chat', subscription_count: 0 },
      { name: 'channel_vacated', channel: 'chat' },
    ])
  })

  it('sends member_added / member_removed once per user, however many connections it has', async () => {
    const t = setup([{ url: 'http://r/1', events: ['member_added', 'member_removed'] }])
    await t.wh.start()
    const m = { clientId: 'u1' }
    t.wh.joined(t.session, 'presence-room', m)
    t.wh.joined(t.session, 'presence-room', m)
    t.wh.joined(t.session, 'presence-room', { clientId: 'u2' })
    t.wh.left(t.session, 'presence-room', m)
    await t.clock.advance(50)
    expect(t.names()).toEqual(['member_added:u1', 'member_added:u2'])
    t.wh.left(t.session, 'presence-room', m)
    await t.clock.advance(50)
    expect(t.names()).toEqual(['member_added:u1', 'member_added:u2', 'member_removed:u1'])
  })

  it('gives each webhook only the events it asked for, and keeps the order of one channel', async () => {
    const t = setup([{ url: 'http://r/all' }, { url: 'http://r/clients', events: ['client_event'] }])
    await t.wh.start()
    t.wh.subscribed(t.session, 'private-x')
    t.wh.clientEvent({ appId: t.app.id, channel: 'private-x', event: 'client-typing', data: { a: 1 }, socketId: '1.2', userId: 'u' })
    t.wh.cacheMiss(t.app.id, 'cache-y')
    await t.clock.advance(50)
    const all = t.posts.find((p) => p.url === 'http://r/all')!.body.events
    expect(all.map((e) => e.name)).toEqual(['channel_occupied', 'subscription_count', 'client_event', 'cache_miss'])
    expect(t.posts.find((p) => p.url === 'http://r/clients')!.body.events).toEqual([
      { name: 'client_event', channel: 'private-x', event: 'client-typing', data: '{"a":1}', socket_id: '1.2', user_id: 'u' },
    ])
  })

  it('tracks nothing for an app without webhooks', async () => {
    const t = setup([])
    await t.wh.start()
    t.wh.subscribed(t.session, 'c')
    t.wh.unsubscribed(t.session, 'c')
    await t.clock.advance(1000)
    expect(t.posts).toEqual([])
  })

  it('turns keys a dead node left empty into channel_vacated and member_removed', async () => {
    const t = setup([{ url: 'http://r/1', events: ['channel_vacated', 'member_removed'] }])
    await t.wh.start()
    t.gone('c:room')
    t.gone('m:presence-room\nu9')
    await t.clock.advance(50)
    expect(t.posts[0]!.body.events).toEqual([
      { name: 'channel_vacated', channel: 'room' },
      { name: 'member_removed', channel: 'presence-room', user_id: 'u9' },
    ])
  })

  it('sends a test POST to every webhook, whatever its events, and logs it', async () => {
    const t = setup([{ url: 'http://r/1', events: ['member_added'] }, { url: 'http://r/2' }])
    await t.wh.start()
    expect(await t.wh.test(t.app)).toBe(2)
    await t.clock.advance(0)
    expect(t.posts.map((p) => p.url).sort()).toEqual(['http://r/1', 'http://r/2'])
    expect(t.posts[0]!.body.events).toEqual([
      { name: 'channel_occupied', channel: TEST_CHANNEL },
      { name: 'channel_vacated', channel: TEST_CHANNEL },
    ])
    expect((await t.wh.deliveries(t.app.id, 10)).map((d) => d.outcome)).toEqual(['delivered', 'delivered'])
  })

  it('writes what is still batched to the outbox on stop', async () => {
    const t = setup([{ url: 'http://r/1' }])
    await t.wh.start()
    t.wh.cacheMiss(t.app.id, 'cache-z')
    await t.wh.stop()
    expect(await t.wh.depth()).toEqual({ app_1: 1 })
  })
})
