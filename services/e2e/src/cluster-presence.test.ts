import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { startCluster, type Cluster } from './support/cluster.js'
import { createApp, signToken, type CreatedApp, type HeraldProcess } from './support/herald.js'
import { until, WsClient } from './support/ws-client.js'

/**
 * A node that dies without closing (kill -9) loses its presence lease; the other nodes sweep
 * its members out. With the default lease (HERALD_PRESENCE_TTL_SECONDS=9, renewed every 3 s),
 * the other members see the `leave` within 15 s of the kill.
 */

let cluster: Cluster
let app: CreatedApp
const clients: WsClient[] = []

beforeAll(async () => {
  cluster = await startCluster({ nodes: 2, presenceTtlSeconds: 9 })
  app = await createApp(cluster.nodes[0]!)
}, 60_000)

afterAll(async () => {
  for (const c of clients) c.ws.terminate()
  await cluster?.stop()
})

async function member(node: HeraldProcess, sub: string): Promise<WsClient> {
  const token = await signToken(app, { sub, cap: { 'presence-*': ['subscribe', 'presence'] } })
  const c = await WsClient.connect(`${node.wsUrl}/v1/apps/${app.appId}/ws?token=${token}`)
  clients.push(c)
  await c.request({ op: 'subscribe', channel: 'presence-lobby' })
  return c
}

describe('presence of a dead node', () => {
  it('leaves within 15 s of kill -9 with the default lease, and the live node keeps its own members', async () => {
    const [a, b] = cluster.nodes as [HeraldProcess, HeraldProcess]
    const alice = await member(a, 'alice')
    const ghosts = await Promise.all(['bob', 'dan'].map((sub) => member(b, sub)))
    const joined = () => alice.frames.filter((f) => f.op === 'presence' && f.action === 'join').map((f) => f.member.clientId)
    await until(() => joined().includes('bob') && joined().includes('dan'), 15_000, 'the joins of bob and dan')
    expect(ghosts).toHaveLength(2)

    const killed = Date.now()
    expect((await b.stop('SIGKILL')).signal).toBe('SIGKILL')
    const left = () => alice.frames.filter((f) => f.op === 'presence' && f.action === 'leave').map((f) => f.member.clientId as string)
    await until(() => left().length >= 2, 30_000, 'the leaves of the killed node’s members')
    const elapsed = Date.now() - killed
    expect(left().sort()).toEqual(['bob', 'dan'])
    expect(elapsed, `members of the killed node left after ${elapsed} ms`).toBeLessThan(15_000)
    const members = await alice.request({ op: 'members', channel: 'presence-lobby' })
    expect(members.members.map((m: { clientId: string }) => m.clientId)).toEqual(['alice'])
  }, 60_000)
})
