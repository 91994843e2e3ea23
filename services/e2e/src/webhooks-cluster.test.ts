import Pusher from 'pusher'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { type Cluster, startCluster } from './support/cluster.js'
import { type CreatedApp, createApp, type HeraldProcess, signToken } from './support/herald.js'
import { type Receiver, startReceiver } from './support/receiver.js'
import { connected, nextEvent, pusherClient, pusherServer, startAuthServer } from './support/pusher.js'
import { until, WsClient } from './support/ws-client.js'

// Three real Herald processes on one redis-server and one fresh PostgreSQL database, and a
// real receiver on 127.0.0.1. Occupancy and membership are the cluster's: one event per
// change, whichever nodes the clients are on. The last test kills node C with SIGKILL.

let cluster: Cluster
let A: HeraldProcess
let B: HeraldProcess
let C: HeraldProcess
let app: CreatedApp
let r: Receiver
const clients = new Set<WsClient>()

beforeAll(async () => {
  r = await startReceiver()
  cluster = await startCluster({
    nodes: 3,
    // Long enough that a busy machine's pauses never make a live node look dead.
    presenceTtlSeconds: 8,
    env: { HERALD_WEBHOOK_BACKOFF_MS: '100', HERALD_WEBHOOK_MAX_BACKOFF_MS: '300', HERALD_WEBHOOK_POLL_MS: '200' },
  })
  ;[A, B, C] = cluster.nodes as [HeraldProcess, HeraldProcess, HeraldProcess]
  app = await createApp(A, { webhooks: [{ url: r.url }] })
}, 120_000)

afterAll(async () => {
  for (const c of clients) c.close()
  await cluster?.stop()
  await r?.close()
}, 60_000)

async function ws(node: HeraldProcess, token?: string): Promise<WsClient> {
  const c = await WsClient.connect(`${node.wsUrl}/v1/apps/${app.appId}/ws${token ? `?token=${token}` : ''}`)
  clients.add(c)
  return c
}

const seen = (name: string, channel: string, userId?: string) =>
  r.events().filter((e) => e.name === name && e.channel === channel && (userId === undefined || e.user_id === userId)).length

/**
 * Waits until every event the given nodes enqueued so far has arrived: a marker subscription
 * on each node makes a `channel_occupied` that node enqueues after all its earlier events,
 * and one (app, URL) is one FIFO queue in the shared outbox. So a duplicate would be here.
 */
async function flush(nodes: HeraldProcess[]): Promise<void> {
  const markers = await Promise.all(
    nodes.map(async (n) => {
      const channel = `marker-${Math.random().toString(36).slice(2)}`
      const c = await ws(n)
      await c.request({ op: 'subscribe', channel })
      return channel
    }),
  )
  await until(() => markers.every((m) => seen('channel_occupied', m) === 1), 15_000, 'the markers')
}

describe('webhooks in a three-node cluster', () => {
  it('subscribers on two nodes make one channel_occupied and, after both leave, one channel_vacated', async () => {
    const a = await ws(A)
    const b = await ws(B)
    await a.request({ op: 'subscribe', channel: 'shared' })
    await b.request({ op: 'subscribe', channel: 'shared' })
    await until(
      () => r.events().some((e) => e.name === 'subscription_count' && e.channel === 'shared' && e.subscription_count === 2),
      15_000,
      'subscription_count 2',
    )
    await flush([A, B])
    expect(seen('channel_occupied', 'shared')).toBe(1)
    expect(seen('channel_vacated', 'shared')).toBe(0)

    await a.request({ op: 'unsubscribe', channel: 'shared' })
    await until(
      () => r.events().some((e) => e.name === 'subscription_count' && e.channel === 'shared' && e.subscription_count === 1),
      15_000,
      'subscription_count 1',
    )
    expect(seen('channel_vacated', 'shared')).toBe(0)
    b.close()
    await until(() => seen('channel_vacated', 'shared') === 1, 15_000, 'channel_vacated')
    await flush([A, B])
    expect(seen('channel_vacated', 'shared')).toBe(1)
    expect(seen('channel_occupied', 'shared')).toBe(1)
    // Every POST, from whichever node, verifies with the pusher library.
    const pusher = new Pusher({ appId: app.appId, key: app.keyId, secret: app.secret, host: '127.0.0.1' })
    for (const call of r.delivered()) expect(pusher.webhook({ headers: call.headers as Record<string, string>, rawBody: call.rawBody }).isValid()).toBe(true)
  })

  it('one member_added and one member_removed for a user connected to two nodes', async () => {
    const cap = { 'presence-*': ['subscribe', 'presence'] }
    const onA = await ws(A, await signToken(app, { sub: 'alice', cap }))
    const onB = await ws(B, await signToken(app, { sub: 'alice', cap }))
    await onA.request({ op: 'subscribe', channel: 'presence-hall' })
    await onB.request({ op: 'subscribe', channel: 'presence-hall' })
    await until(() => seen('member_added', 'presence-hall', 'alice') === 1, 15_000, 'member_added')
    await flush([A, B])
    expect(seen('member_added', 'presence-hall', 'alice')).toBe(1)
    onA.close()
    await until(
      () => r.events().some((e) => e.name === 'subscription_count' && e.channel === 'presence-hall' && e.subscription_count === 1),
      15_000,
      'one subscriber left',
    )
    await flush([A, B])
    expect(seen('member_removed', 'presence-hall', 'alice')).toBe(0)
    onB.close()
    await until(() => seen('member_removed', 'presence-hall', 'alice') === 1, 15_000, 'member_removed')
    await flush([A, B])
    expect(seen('member_removed', 'presence-hall', 'alice')).toBe(1)
  })

  it('a user on a Pusher socket on one node and a Herald socket on another is one member', async () => {
    const auth = await startAuthServer(pusherServer(A.port, app), app)
    const pusher = pusherClient(A.port, app, { auth, user: 'bea' })
    try {
      await connected(pusher)
      await nextEvent(pusher.subscribe('presence-two-faces'), 'pusher:subscription_succeeded')
      const onB = await ws(B, await signToken(app, { sub: 'bea', cap: { 'presence-*': ['subscribe', 'presence'] } }))
      await onB.request({ op: 'subscribe', channel: 'presence-two-faces' })
      await until(() => seen('member_added', 'presence-two-faces', 'bea') === 1, 15_000, 'member_added')
      await until(() => seen('channel_occupied', 'presence-two-faces') === 1, 15_000, 'channel_occupied')
      pusher.disconnect()
      onB.close()
      await until(
        () => seen('member_removed', 'presence-two-faces', 'bea') === 1 && seen('channel_vacated', 'presence-two-faces') === 1,
        15_000,
        'member_removed',
      )
      await flush([A, B])
      expect([
        seen('member_added', 'presence-two-faces'),
        seen('member_removed', 'presence-two-faces'),
        seen('channel_occupied', 'presence-two-faces'),
        seen('channel_vacated', 'presence-two-faces'),
      ]).toEqual([1, 1, 1, 1])
    } finally {
      pusher.disconnect()
      await auth.close()
    }
  })

  it('a node killed with kill -9: its pending POSTs come from another node, and its channels are vacated once', { timeout: 90_000 }, async () => {
    r.respond = () => 503
    const before = r.calls.length
    const c = await ws(C)
    await c.request({ op: 'subscribe', channel: 'orphan' })
    await until(
      () => r.calls.slice(before).some((x) => x.body.events.some((e) => e.name === 'channel_occupied' && e.channel === 'orphan')),
      15_000,
      'a failed attempt',
    )
    await C.stop('SIGKILL')
    r.respond = () => 200
    await until(() => seen('channel_occupied', 'orphan') === 1, 20_000, 'the pending channel_occupied, from A or B')
    // C's holdings expire with its heartbeat (8 s); one sweep on A or B vacates its channel.
    await until(() => seen('channel_vacated', 'orphan') === 1, 45_000, 'channel_vacated of the dead node')
    await flush([A, B])
    expect(seen('channel_vacated', 'orphan')).toBe(1)
    expect(seen('channel_occupied', 'orphan')).toBe(1)
  })
})
