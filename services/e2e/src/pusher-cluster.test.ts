import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest'
import { startCluster, type Cluster } from './support/cluster.js'
import { createApp, publish, type CreatedApp, type HeraldProcess } from './support/herald.js'
import { connected, nextEvent, pusherClient, pusherServer, startAuthServer, type AuthServer, type PusherJs } from './support/pusher.js'
import { until } from './support/ws-client.js'

/**
 * The Pusher face on three Herald nodes sharing one redis-server and one PostgreSQL database:
 * pusher-js clients on different nodes see one channel, one presence list, each other's client
 * events, and a trigger's socket_id exclusion names a socket wherever it lives.
 */

let cluster: Cluster
let A: HeraldProcess
let B: HeraldProcess
let C: HeraldProcess
let app: CreatedApp
let auth: AuthServer
const clients: PusherJs[] = []

function on(node: HeraldProcess, user: string): PusherJs {
  const c = pusherClient(node.port, app, { auth, user })
  clients.push(c)
  return c
}

beforeAll(async () => {
  cluster = await startCluster({ nodes: 3, presenceTtlSeconds: 3 })
  ;[A, B, C] = cluster.nodes as [HeraldProcess, HeraldProcess, HeraldProcess]
  app = await createApp(A, { clientEvents: true })
  auth = await startAuthServer(pusherServer(A.port, app), app)
}, 120_000)
afterEach(() => {
  for (const c of clients.splice(0)) c.disconnect()
})
afterAll(async () => {
  await auth?.close()
  await cluster?.stop()
}, 60_000)

describe('pusher-js on a three-node cluster', () => {
  it('delivers a publish through one node to subscribers on every node', async () => {
    const subs = [on(A, 'a'), on(B, 'b'), on(C, 'c')]
    await Promise.all(subs.map(connected))
    const channels = subs.map((s) => s.subscribe('private-wide'))
    await Promise.all(channels.map((ch) => nextEvent(ch, 'pusher:subscription_succeeded')))
    const got = Promise.all(channels.map((ch) => nextEvent(ch, 'hello')))
    await publish(B, app, { channel: 'private-wide', name: 'hello', data: { from: 'B' } })
    expect(await got).toEqual([{ from: 'B' }, { from: 'B' }, { from: 'B' }])
  })

  it('carries client events across nodes, not back to the sender', async () => {
    const sender = on(A, 'sender')
    const far = on(B, 'far')
    const farther = on(C, 'farther')
    await Promise.all([sender, far, farther].map(connected))
    const [sc, fc, gc] = [sender, far, farther].map((s) => s.subscribe('presence-talk'))
    await Promise.all([sc, fc, gc].map((ch) => nextEvent(ch!, 'pusher:subscription_succeeded')))
    const atSender: unknown[] = []
    sc!.bind('client-say', (d: unknown) => atSender.push(d))
    const atFar = new Promise<[unknown, unknown]>((resolve) => fc!.bind('client-say', (d: unknown, m: unknown) => resolve([d, m])))
    const atFarther = nextEvent(gc!, 'client-say')
    sc!.trigger('client-say', { text: 'across' })
    expect(await atFar).toEqual([{ text: 'across' }, { user_id: 'sender' }])
    expect(await atFarther).toEqual({ text: 'across' })
    // A later event on the same channel reaches the sender; its own came first, had it been echoed.
    const after = nextEvent(sc!, 'after')
    await publish(C, app, { channel: 'presence-talk', name: 'after', data: 1 })
    await after
    expect(atSender).toEqual([])
  })

  it('keeps one presence list over the nodes, member events once per user', async () => {
    const watcher = on(A, 'watcher')
    await connected(watcher)
    const room = watcher.subscribe('presence-hall')
    await nextEvent(room, 'pusher:subscription_succeeded')
    const added: string[] = []
    const removed: string[] = []
    room.bind('pusher:member_added', (m: { id: string }) => added.push(m.id))
    room.bind('pusher:member_removed', (m: { id: string }) => removed.push(m.id))
    const ann1 = on(B, 'ann')
    const ann2 = on(C, 'ann')
    await Promise.all([connected(ann1), connected(ann2)])
    await nextEvent(ann1.subscribe('presence-hall'), 'pusher:subscription_succeeded')
    const second = await nextEvent<{ count: number }>(ann2.subscribe('presence-hall'), 'pusher:subscription_succeeded')
    expect(second.count).toBe(2)
    await until(() => added.length >= 1, 10_000, 'member_added ann')
    const bob = on(C, 'bob')
    await connected(bob)
    await nextEvent(bob.subscribe('presence-hall'), 'pusher:subscription_succeeded')
    await until(() => added.length >= 2, 10_000, 'member_added bob')
    expect(added).toEqual(['ann', 'bob'])
    // ann leaves node B but stays on node C: not removed. bob leaves: removed.
    ann1.disconnect()
    const users = async () => {
      const res = await pusherServer(A.port, app).get({ path: '/channels/presence-hall/users' })
      return ((await res.json()) as { users: Array<{ id: string }> }).users.map((u) => u.id).sort()
    }
    await until(async () => JSON.stringify(await users()) === JSON.stringify(['ann', 'bob', 'watcher']), 10_000, 'users')
    bob.disconnect()
    await until(() => removed.length >= 1, 10_000, 'member_removed bob')
    expect(removed).toEqual(['bob'])
  })

  it('leaves out the socket a trigger names, on whichever node it is', async () => {
    const excluded = on(B, 'x')
    const other = on(C, 'y')
    const [socketId] = await Promise.all([connected(excluded), connected(other)])
    const xc = excluded.subscribe('private-except')
    const oc = other.subscribe('private-except')
    await Promise.all([nextEvent(xc, 'pusher:subscription_succeeded'), nextEvent(oc, 'pusher:subscription_succeeded')])
    const atExcluded: unknown[] = []
    xc.bind('skip', (d: unknown) => atExcluded.push(d))
    const got = nextEvent(oc, 'skip')
    await pusherServer(A.port, app).trigger('private-except', 'skip', { n: 1 }, { socket_id: socketId })
    expect(await got).toEqual({ n: 1 })
    const after = nextEvent(xc, 'later')
    await publish(A, app, { channel: 'private-except', name: 'later', data: 2 })
    await after
    expect(atExcluded).toEqual([])
  })
})
