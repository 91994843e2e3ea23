import { Redis } from 'ioredis'
import { afterAll, describe, expect, it } from 'vitest'
import { newTestAppId, waitFor } from './broker.contract.js'
import { clusterStateContract } from './cluster-state.contract.js'
import { RedisClusterState } from './cluster-state-redis.js'
import { dropPrefix, newTestPrefix, TEST_REDIS_URL as URL } from './redis-test-support.js'

const PREFIX = newTestPrefix()
let nodes = 0

const admin = new Redis(URL)
afterAll(async () => {
  await dropPrefix(admin, PREFIX)
  await admin.quit()
})

clusterStateContract('redis', {
  shared: true,
  async start(localState) {
    const state = new RedisClusterState({ url: URL, nodeId: `state-node-${++nodes}`, keyPrefix: PREFIX, intervalMs: 200 })
    await state.start(localState)
    return state
  },
})

describe('RedisClusterState', () => {
  it('knows the connections each app has on the other nodes, from their reports, without a call per connection', async () => {
    const app = newTestAppId()
    const counts = (connections: number) => () => ({ [app]: { connections, channels: {}, published: 0, delivered: 0 } })
    const a = new RedisClusterState({ url: URL, nodeId: `state-node-${++nodes}`, keyPrefix: PREFIX, intervalMs: 200 })
    const b = new RedisClusterState({ url: URL, nodeId: `state-node-${++nodes}`, keyPrefix: PREFIX, intervalMs: 200 })
    try {
      await a.start(counts(3))
      await b.start(counts(2))
      await waitFor(() => expect(b.remoteConnections(app)).toBe(3))
      await waitFor(() => expect(a.remoteConnections(app)).toBe(2))
      expect(a.remoteConnections(newTestAppId())).toBe(0)
      await a.close() // a node that leaves takes its count with it
      await waitFor(() => expect(b.remoteConnections(app)).toBe(0))
    } finally {
      await a.close()
      await b.close()
    }
  })
})
