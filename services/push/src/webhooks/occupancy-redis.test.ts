import { randomBytes } from 'node:crypto'
import { Redis } from 'ioredis'
import { afterAll, describe, expect, it } from 'vitest'
import { waitFor } from '../engine/broker.contract.js'
import { describeOccupancyContract } from './occupancy.contract.js'
import { RedisOccupancy } from './occupancy-redis.js'

const URL = process.env.HERALD_TEST_REDIS_URL ?? 'redis://127.0.0.1:6379'
const prefix = 'herald-test-occ-' + randomBytes(4).toString('hex')
const opened: RedisOccupancy[] = []

afterAll(async () => {
  await Promise.all(opened.map((o) => o.stop()))
  const r = new Redis(URL)
  const keys = await r.keys(`${prefix}*`)
  if (keys.length > 0) await r.del(...keys)
  r.disconnect()
})

async function node(nodeId: string, gone: string[] = [], ttlMs = 30_000, restored: string[] = []): Promise<RedisOccupancy> {
  const o = new RedisOccupancy({ url: URL, nodeId, keyPrefix: prefix, ttlMs })
  opened.push(o)
  await o.start(
    (appId, key) => gone.push(`${appId}|${key}`),
    (appId, key, count) => restored.push(`${appId}|${key}|${count}`),
  )
  return o
}

describeOccupancyContract('redis', () => node('n-' + randomBytes(3).toString('hex')))

describe('RedisOccupancy across nodes', () => {
  const app = 'app_' + randomBytes(4).toString('hex')

  it('decides first and last over all nodes: one edge each way', async () => {
    const [a, b] = await Promise.all([node('edge-a'), node('edge-b')])
    expect(await a.enter(app, 'c1')).toEqual({ edge: true, count: 1 })
    expect(await b.enter(app, 'c1')).toEqual({ edge: false, count: 2 })
    expect(await a.leave(app, 'c1')).toEqual({ edge: false, count: 1 })
    expect(await b.leave(app, 'c1')).toEqual({ edge: true, count: 0 })
  })

  it('gives exactly one edge each way to many concurrent enters and leaves on three nodes', async () => {
    const nodes = await Promise.all(['race-a', 'race-b', 'race-c'].map((id) => node(id)))
    const enters = await Promise.all(nodes.flatMap((n) => Array.from({ length: 20 }, () => n.enter(app, 'race'))))
    expect(enters.filter((r) => r.edge)).toHaveLength(1)
    expect(Math.max(...enters.map((r) => r.count))).toBe(60)
    const leaves = await Promise.all(nodes.flatMap((n) => Array.from({ length: 20 }, () => n.leave(app, 'race'))))
    expect(leaves.filter((r) => r.edge)).toHaveLength(1)
  })

  it('sweeps a dead node: each key it alone held is reported gone once, shared keys stay held', async () => {
    const goneB: string[] = []
    const goneC: string[] = []
    const dead = await node('dead-a', [], 300)
    // Only the dead node has a short TTL: the live ones must not be swept on a slow machine.
    const b = await node('dead-b', goneB)
    const c = await node('dead-c', goneC)
    await dead.enter(app, 'only-dead')
    await dead.enter(app, 'only-dead')
    await dead.enter(app, 'shared')
    await b.enter(app, 'shared')
    await dead.stop() // no leave, no heartbeat: as if killed
    await waitFor(async () => {
      await Promise.all([b.tick(), c.tick()])
      expect([...goneB, ...goneC]).toEqual([`${app}|only-dead`])
    })
    await Promise.all([b.tick(), c.tick()])
    expect([...goneB, ...goneC]).toEqual([`${app}|only-dead`])
    expect(await b.leave(app, 'shared')).toEqual({ edge: true, count: 0 })
    expect(await c.enter(app, 'only-dead')).toEqual({ edge: true, count: 1 })
  })

  it('reports at start what the same node id held before it crashed', async () => {
    const first = await node('restarted')
    await first.enter(app, 'held-before')
    await first.stop()
    const gone: string[] = []
    await node('restarted', gone)
    expect(gone).toEqual([`${app}|held-before`])
  })

  it('a node swept as dead while it was only stalled holds its keys again at its next heartbeat', async () => {
    const gone: string[] = []
    const restored: string[] = []
    const stalled = await node('stalled', [], 30_000, restored)
    const other = await node('sweeper', gone)
    await stalled.enter(app, 'k-alone')
    await stalled.enter(app, 'k-alone')
    await stalled.enter(app, 'k-shared')
    await other.enter(app, 'k-shared')
    // As if its heartbeats had stopped for longer than the TTL: its expiry is in the past.
    const r = new Redis(URL)
    await r.zadd(`${prefix}:nodes`, '1', 'stalled')
    r.disconnect()
    await other.tick()
    expect(gone).toEqual([`${app}|k-alone`])
    await stalled.tick()
    expect(restored).toEqual([`${app}|k-alone|2`])
    expect(await other.leave(app, 'k-shared')).toEqual({ edge: false, count: 1 })
    expect(await stalled.leave(app, 'k-alone')).toEqual({ edge: false, count: 1 })
    expect(await stalled.leave(app, 'k-alone')).toEqual({ edge: true, count: 0 })
    expect(await stalled.leave(app, 'k-shared')).toEqual({ edge: true, count: 0 })
  })
})
