import { Redis } from 'ioredis'
import { afterAll } from 'vitest'
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
