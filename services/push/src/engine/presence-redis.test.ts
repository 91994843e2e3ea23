import { Redis } from 'ioredis'
import { afterAll, afterEach, describe, expect, it } from 'vitest'
import { newTestAppId, Recorder, waitFor } from './broker.contract.js'
import { RedisBroker } from './broker-redis.js'
import { presenceContract, type PresenceNode } from './presence.contract.js'
import { RedisPresenceManager } from './presence-redis.js'
import { dropPrefix, newTestPrefix, TEST_REDIS_URL as URL } from './redis-test-support.js'

const PREFIX = newTestPrefix()
let nodes = 0

/** One node: its presence manager, and the broker whose subscription carries the channel's presence events. */
async function redisNode(rec: Recorder, ttlMs?: number): Promise<PresenceNode & { broker: RedisBroker }> {
  const nodeId = `presence-node-${++nodes}`
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
  async function node(ttlMs?: number): Promise<PresenceNode & { rec: Recorder; broker: RedisBroker }> {
    const rec = new Recorder()
    const n = await redisNode(rec, ttlMs)
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
})
