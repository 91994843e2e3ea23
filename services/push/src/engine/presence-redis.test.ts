import { randomBytes } from 'node:crypto'
import { Redis } from 'ioredis'
import { afterAll, afterEach, describe, expect, it, vi } from 'vitest'
import { newTestAppId, Recorder, waitFor } from './broker.contract.js'
import { RedisBroker } from './broker-redis.js'
import { presenceContract, type PresenceNode } from './presence.contract.js'
import { RedisPresenceManager } from './presence-redis.js'
import { dropPrefix, newTestPrefix, TEST_REDIS_URL as URL } from './redis-test-support.js'
import { LuaScript, PRESENCE_ADD_SCRIPT, PRESENCE_DEAD_NODES_SCRIPT, PRESENCE_FORGET_NODE_SCRIPT, PRESENCE_LEASE_SCRIPT } from './redis-scripts.js'

const PREFIX = newTestPrefix()
let nodes = 0

/** One node: its presence manager, and the broker whose subscription carries the channel's presence events. */
async function redisNode(rec: Recorder, ttlMs?: number, id?: string): Promise<PresenceNode & { broker: RedisBroker; presence: RedisPresenceManager }> {
  const nodeId = id ?? `presence-node-${++nodes}`
  const broker = new RedisBroker({ url: URL, nodeId, keyPrefix: PREFIX })
  const presence = new RedisPresenceManager({ url: URL, nodeId, keyPrefix: PREFIX, ...(ttlMs ? { ttlMs } : {}) })
  await broker.start(rec)
  await presence.start()
  return {
    broker,
    presence,
    listen: (appId, channel) => broker.subscribe(appId, channel),
    close: async () => {
      await presence.close()
      await broker.close()
    },
  }
}

const admin = new Redis(URL)
afterAll(async () => {
  await dropPrefix(admin, PREFIX)
  await admin.quit()
})

presenceContract('redis', { shared: true, start: (rec) => redisNode(rec) })

describe('RedisPresenceManager', () => {
  const started: PresenceNode[] = []
  afterEach(async () => {
    await Promise.all(started.splice(0).map((n) => n.close()))
  })
  async function node(ttlMs?: number, id?: string): Promise<PresenceNode & { rec: Recorder; broker: RedisBroker; presence: RedisPresenceManager }> {
    const rec = new Recorder()
    const n = await redisNode(rec, ttlMs, id)
    started.push(n)
    return { ...n, rec }
  }

  it('emits leave for the members of a node that died, once their presence expired', async () => {
    const dying = await node(3000)
    const watcher = await node(3000)
    const app = newTestAppId()
    const ch = 'presence-dead'
    await watcher.listen(app, ch)
    await dying.presence.add(app, ch, 'd1', { clientId: 'ghost', info: { n: 1 } })
    await dying.presence.add(app, ch, 'd2', { clientId: 'ghost', info: { n: 1 } })
    await watcher.presence.add(app, ch, 'w1', { clientId: 'alive' })
    await waitFor(() => expect(watcher.rec.presenceOf(app, ch)).toEqual(['join:ghost', 'join:alive']))
    // Heartbeats keep entries alive well past the TTL while the node lives.
    await new Promise((r) => setTimeout(r, 4500))
    expect(watcher.rec.presenceOf(app, ch)).toEqual(['join:ghost', 'join:alive'])
    await dying.presence.close() // no remove: as if the process died
    await waitFor(() => expect(watcher.rec.presenceOf(app, ch)).toEqual(['join:ghost', 'join:alive', 'leave:ghost']))
    expect(watcher.rec.presence.at(-1)!.event.member).toEqual({ clientId: 'ghost', info: { n: 1 } })
    expect(await watcher.presence.members(app, ch)).toEqual([{ clientId: 'alive' }])
  })

  it('renews presence with one lease per node and heartbeat, not one command per connection', async () => {
    const n = await node(60_000)
    const app = newTestAppId()
    for (let i = 0; i < 50; i++) await n.presence.add(app, 'presence-many', `c${i}`, { clientId: `u${i}` })
    const spy = vi.spyOn(LuaScript.prototype, 'run')
    try {
      await n.presence.tick()
      // The lease, and the look-up of dead nodes: whatever the connection count. (Forgetting a
      // node that an earlier test left to die is the sweep's own work, whenever its lease ends.)
      const own = spy.mock.contexts.filter((script) => script !== PRESENCE_FORGET_NODE_SCRIPT)
      expect(own).toEqual([PRESENCE_LEASE_SCRIPT, PRESENCE_DEAD_NODES_SCRIPT])
      expect(spy.mock.contexts).not.toContain(PRESENCE_ADD_SCRIPT)
    } finally {
      spy.mockRestore()
    }
    expect(await n.presence.members(app, 'presence-many')).toHaveLength(50)
  })

  it('asserts its presence again when Redis lost it (its lease is gone)', async () => {
    const nodeId = `flushed-${randomBytes(4).toString('hex')}`
    const n = await node(60_000, nodeId)
    const watcher = await node()
    const app = newTestAppId()
    const ch = 'presence-flushed'
    await watcher.listen(app, ch)
    await n.presence.add(app, ch, 'c1', { clientId: 'kept' })
    await waitFor(() => expect(watcher.rec.presenceOf(app, ch)).toEqual(['join:kept']))
    // What a FLUSHALL does to this node's presence.
    await admin.del(`${PREFIX}:{${app}}:pres:${ch}`, `${PREFIX}:{${app}}:presc:${ch}`)
    await admin.zrem(`${PREFIX}:presence-leases`, nodeId)
    expect(await watcher.presence.members(app, ch)).toEqual([])
    await n.presence.tick()
    expect(await watcher.presence.members(app, ch)).toEqual([{ clientId: 'kept' }])
  })

  it('removes, at start, the presence a previous process with the same node id left behind', async () => {
    const nodeId = `reborn-${randomBytes(4).toString('hex')}`
    const first = await node(60_000, nodeId)
    const watcher = await node()
    const app = newTestAppId()
    const ch = 'presence-reborn'
    await watcher.listen(app, ch)
    await first.presence.add(app, ch, 'old', { clientId: 'ghost' })
    await waitFor(() => expect(watcher.rec.presenceOf(app, ch)).toEqual(['join:ghost']))
    await first.presence.close() // died without removing its presence; its lease is still valid
    await node(60_000, nodeId)
    await waitFor(() => expect(watcher.rec.presenceOf(app, ch)).toEqual(['join:ghost', 'leave:ghost']))
    expect(await watcher.presence.members(app, ch)).toEqual([])
  })
})
