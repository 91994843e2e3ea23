import Pusher from 'pusher'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { startCluster, type Cluster } from './support/cluster.js'
import { createApp, signToken, type CreatedApp, type HeraldProcess } from './support/herald.js'
import { until, WsClient } from './support/ws-client.js'

// The Pusher HTTP API on a cluster: two Herald processes sharing a redis-server and a fresh
// PostgreSQL database. A call to node A sees and reaches subscribers on node B.

let cluster: Cluster
let A: HeraldProcess
let B: HeraldProcess
let app: CreatedApp
const open: WsClient[] = []

beforeAll(async () => {
  cluster = await startCluster({ nodes: 2 })
  ;[A, B] = cluster.nodes as [HeraldProcess, HeraldProcess]
  app = await createApp(A)
}, 120_000)

afterAll(async () => {
  for (const c of open) c.close()
  await cluster?.stop()
}, 60_000)

const pusherOn = (node: HeraldProcess) => new Pusher({ appId: app.appId, key: app.keyId, secret: app.secret, host: '127.0.0.1', port: String(node.port), useTLS: false })

async function subscribeOn(node: HeraldProcess, channel: string, token?: string): Promise<WsClient> {
  const ws = await WsClient.connect(`${node.wsUrl}/v1/apps/${app.appId}/ws${token ? `?token=${encodeURIComponent(token)}` : ''}`)
  open.push(ws)
  expect((await ws.request({ op: 'subscribe', channel })).op).toBe('subscribed')
  return ws
}

describe('Pusher HTTP API across nodes', () => {
  it('a trigger on node A reaches Herald subscribers on node B, in order, with one seq', async () => {
    const onB = await subscribeOn(B, 'cluster-orders')
    const onA = await subscribeOn(A, 'cluster-orders')
    await pusherOn(A).trigger('cluster-orders', 'first', { n: 1 })
    await pusherOn(B).trigger('cluster-orders', 'second', { n: 2 })
    for (const ws of [onA, onB]) {
      await until(() => ws.messages('cluster-orders').length === 2, 10_000, 'two messages')
      expect(ws.messages('cluster-orders').map((m) => [m.seq, m.name, m.data])).toEqual([
        [1, 'first', { n: 1 }],
        [2, 'second', { n: 2 }],
      ])
    }
  })

  it("node A's channel info and users count the subscribers and presence members of node B", async () => {
    const ann = await signToken(app, { sub: 'ann', cap: { '*': ['subscribe', 'presence'] } })
    const bob = await signToken(app, { sub: 'bob', cap: { '*': ['subscribe', 'presence'] } })
    await subscribeOn(B, 'presence-cluster', ann)
    await subscribeOn(B, 'presence-cluster', bob)
    await subscribeOn(A, 'presence-cluster', ann)
    const info = async () => (await (await pusherOn(A).get({ path: '/channels/presence-cluster', params: { info: 'subscription_count,user_count' } })).json()) as Record<string, unknown>
    // node B's subscriptions reach A's view with B's next state report
    await until(async () => (await info()).subscription_count === 3, 15_000, 'three subscriptions seen from A')
    expect(await info()).toEqual({ occupied: true, subscription_count: 3, user_count: 2 })
    const users = (await (await pusherOn(A).get({ path: '/channels/presence-cluster/users' })).json()) as { users: Array<{ id: string }> }
    expect(users.users.map((u) => u.id).sort()).toEqual(['ann', 'bob'])
    const list = (await (await pusherOn(A).get({ path: '/channels', params: { filter_by_prefix: 'presence-', info: 'user_count' } })).json()) as { channels: Record<string, unknown> }
    expect(list.channels['presence-cluster']).toEqual({ user_count: 2 })
  })
})
