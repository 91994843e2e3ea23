import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { http, sseAttempt } from './support/attack.js'
import { startCluster, type Cluster } from './support/cluster.js'
import { createApp, type CreatedApp, type HeraldProcess } from './support/herald.js'
import { until, WsClient } from './support/ws-client.js'

/**
 * `publishRatePerSecond` holds for the app over every node: the token bucket lives in Redis
 * and is taken in the same script as the publish (each node's own bucket stays in front of it).
 * `maxConnections` counts the other nodes' connections as they last reported them.
 */

let cluster: Cluster
let app: CreatedApp

beforeAll(async () => {
  cluster = await startCluster({ nodes: 2 })
  app = await createApp(cluster.nodes[0]!, { publishRatePerSecond: 20 })
}, 60_000)

afterAll(async () => {
  await cluster?.stop()
})

describe('cluster-wide publish rate', () => {
  it('two nodes together accept no more than the app’s rate (its one-second burst, then the rate)', async () => {
    const [a, b] = cluster.nodes as [HeraldProcess, HeraldProcess]
    const one = (node: HeraldProcess, i: number) =>
      http(node.url, 'POST', `/v1/apps/${app.appId}/messages`, {
        headers: { authorization: app.basic, 'content-type': 'application/json' },
        body: JSON.stringify({ channel: 'rated', data: i }),
      })
    const t0 = Date.now()
    const replies = await Promise.all(Array.from({ length: 100 }, (_, i) => one(i % 2 === 0 ? a : b, i)))
    const elapsedS = (Date.now() - t0) / 1000
    const accepted = replies.filter((r) => r.status === 200).length
    const refused = replies.filter((r) => r.status !== 200)
    // Each node alone would let 20 through (40 together): the cluster lets 20, plus what refilled meanwhile.
    expect(accepted).toBeGreaterThanOrEqual(20)
    expect(accepted, `accepted ${accepted} in ${elapsedS} s`).toBeLessThanOrEqual(20 + Math.ceil(20 * elapsedS))
    for (const r of refused) {
      expect(r.status).toBe(429)
      expect(r.json.error.code).toBe('rate_limited')
      expect(Number(r.headers.get('retry-after'))).toBeGreaterThanOrEqual(1)
    }
    // Both nodes refused some: the limit is the app's, not one node's.
    const refusedBy = (node: HeraldProcess) => replies.filter((r, i) => r.status === 429 && (i % 2 === 0 ? a : b) === node).length
    expect(refusedBy(a)).toBeGreaterThan(0)
    expect(refusedBy(b)).toBeGreaterThan(0)
    // Every accepted publish is in the history, once, with gap-free seqs.
    const hist = await http(a.url, 'GET', `/v1/apps/${app.appId}/channels/rated/messages?limit=1000`, { headers: { authorization: app.basic } })
    expect(hist.json.messages.map((m: { seq: number }) => m.seq)).toEqual(Array.from({ length: accepted }, (_, i) => i + 1))
  })
})

describe('cluster-wide maxConnections', () => {
  it('a node with no connection of the app refuses one once the other node holds maxConnections, and admits again when they leave', async () => {
    const [a, b] = cluster.nodes as [HeraldProcess, HeraldProcess]
    const limited = await createApp(a, { maxConnections: 4 })
    const onA: WsClient[] = []
    for (let i = 0; i < 4; i++) onA.push(await WsClient.connect(`${a.wsUrl}/v1/apps/${limited.appId}/ws`))
    // An SSE attempt on B: admitted (and dropped at once) until B has A's report, then refused.
    const sseOnB = () => sseAttempt(`${b.url}/v1/apps/${limited.appId}/sse?channels=c`)
    await until(async () => (await sseOnB()).status === 429, 15_000, 'B counting the connections on A')
    const refused = await sseOnB()
    expect(refused.json).toMatchObject({ error: { code: 'limit_exceeded' } })
    expect(refused.headers.get('retry-after')).toMatch(/^[1-9]\d*$/)
    for (const c of onA.splice(0, 2)) {
      c.close()
      await c.closed
    }
    await until(async () => (await sseOnB()).status === 200, 15_000, 'B seeing the room again')
    for (const c of onA) c.close()
  })
})
