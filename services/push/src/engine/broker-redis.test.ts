import { randomBytes } from 'node:crypto'
import { Redis } from 'ioredis'
import { afterAll, afterEach, describe, expect, it } from 'vitest'
import type { ChannelOptions } from './broker.js'
import { brokerContract, newTestAppId, Recorder, waitFor } from './broker.contract.js'
import { HeraldError } from '../errors.js'
import { RedisBroker, type RedisBrokerOptions } from './broker-redis.js'
import { RedisPresenceManager } from './presence-redis.js'
import { dropPrefix, newTestPrefix, TEST_REDIS_URL as URL } from './redis-test-support.js'

const PREFIX = newTestPrefix()
const OPTS: ChannelOptions = { historySize: 100, historyTtlSeconds: 3600 }
let nodes = 0

function newBroker(extra: Partial<RedisBrokerOptions> = {}): RedisBroker {
  return new RedisBroker({ url: URL, nodeId: `test-node-${++nodes}`, keyPrefix: PREFIX, ...extra })
}

const admin = new Redis(URL)
afterAll(async () => {
  await dropPrefix(admin, PREFIX)
  await admin.quit()
})

brokerContract('redis', {
  shared: true,
  async start(handler, localState) {
    const broker = newBroker()
    await broker.start(handler, localState ?? (() => ({})))
    return broker
  },
})

describe('RedisBroker', () => {
  const started: RedisBroker[] = []
  afterEach(async () => {
    await Promise.all(started.splice(0).map((b) => b.close()))
  })
  async function node(extra: Partial<RedisBrokerOptions> = {}): Promise<{ broker: RedisBroker; rec: Recorder }> {
    const rec = new Recorder()
    const broker = newBroker(extra)
    started.push(broker)
    await broker.start(rec, () => ({}))
    return { broker, rec }
  }

  it('holds the app’s publish rate over every node: one bucket in Redis, checked in the publish script', async () => {
    const a = await node()
    const b = await node()
    const app = newTestAppId()
    const opts = { ...OPTS, publishRatePerSecond: 100 }
    const batch = (n: number, tag: string) => Array.from({ length: n }, (_, i) => ({ channel: 'rated', data: `${tag}-${i}` }))
    expect(await a.broker.publish(app, batch(100, 'a'), opts)).toHaveLength(100)
    // The bucket is empty for the app on every node: B's batch is refused whole, nothing published.
    const refused = await b.broker.publish(app, batch(50, 'b'), opts).then(
      () => null,
      (err: unknown) => err,
    )
    expect(refused).toBeInstanceOf(HeraldError)
    expect(refused).toMatchObject({ code: 'rate_limited' })
    expect((refused as HeraldError).retryAfter).toBeGreaterThanOrEqual(1)
    expect((await b.broker.position(app, 'rated')).seq).toBe(100)
    // Other apps have their own bucket; without a rate nothing is counted.
    expect(await b.broker.publish(newTestAppId(), batch(100, 'other'), opts)).toHaveLength(100)
    expect(await b.broker.publish(app, batch(10, 'unrated'), OPTS)).toHaveLength(10)
  })

  it("keeps its keys in per-app key spaces under the prefix (with the presence manager's)", async () => {
    const { broker } = await node()
    const presence = new RedisPresenceManager({ url: URL, nodeId: `test-node-${++nodes}`, keyPrefix: PREFIX })
    await presence.start()
    const app = newTestAppId()
    await broker.publish(app, [{ channel: 'chat:room/1', data: 1, id: 'x' }], OPTS)
    await presence.add(app, 'presence-a', 'c1', { clientId: 'u' })
    await presence.close()
    const keys = (await admin.keys(`${PREFIX}:{${app}}:*`)).sort()
    expect(keys).toEqual(
      [
        `${PREFIX}:{${app}}:hist:chat:room/1`,
        `${PREFIX}:{${app}}:idem:chat:room/1|x`,
        `${PREFIX}:{${app}}:meta:chat:room/1`,
        `${PREFIX}:{${app}}:pres:presence-a`,
        `${PREFIX}:{${app}}:presc:presence-a`,
      ].sort(),
    )
    expect(await admin.ttl(`${PREFIX}:{${app}}:hist:chat:room/1`)).toBeGreaterThan(3500)
    const idemTtl = await admin.pttl(`${PREFIX}:{${app}}:idem:chat:room/1|x`)
    expect(idemTtl).toBeGreaterThan(100_000)
    expect(idemTtl).toBeLessThanOrEqual(120_000)
  })

  it('passes the raw message JSON to the handler', async () => {
    const { broker, rec } = await node()
    const app = newTestAppId()
    await broker.subscribe(app, 'raw')
    const [out] = await broker.publish(app, [{ channel: 'raw', name: 'n', data: { a: [1, 2.5, 'é'] }, clientId: 'c' }], OPTS)
    await waitFor(() => expect(rec.messages).toHaveLength(1))
    expect(rec.messages[0]!.json).toBe(JSON.stringify(out!.message))
  })

  it('delivers only channels this node subscribed to, and stops after unsubscribe', async () => {
    const a = await node()
    const b = await node()
    const app = newTestAppId()
    await b.broker.subscribe(app, 'on')
    await a.broker.publish(
      app,
      [
        { channel: 'off', data: 1 },
        { channel: 'on', data: 2 },
      ],
      OPTS,
    )
    await waitFor(() => expect(b.rec.of(app, 'on')).toHaveLength(1))
    expect(b.rec.of(app, 'off')).toEqual([])
    expect(a.rec.messages).toEqual([])
    await b.broker.unsubscribe(app, 'on')
    await b.broker.subscribe(app, 'marker')
    await a.broker.publish(app, [{ channel: 'on', data: 3 }], OPTS)
    await a.broker.publish(app, [{ channel: 'marker', data: 4 }], OPTS)
    await waitFor(() => expect(b.rec.of(app, 'marker')).toHaveLength(1))
    expect(b.rec.of(app, 'on').map((m) => m.data)).toEqual([2])
  })

  it('resubscribes after its subscriber connection drops', async () => {
    const nodeId = `resub-${randomBytes(4).toString('hex')}`
    const a = await node({ nodeId })
    const app = newTestAppId()
    await a.broker.subscribe(app, 'again')
    const list = await admin.client('LIST')
    const line = String(list)
      .split('\n')
      .find((l) => l.includes(`name=herald-sub-${nodeId} `))
    const id = /\bid=(\d+)/.exec(line ?? '')?.[1]
    expect(id).toBeDefined()
    await admin.client('KILL', 'ID', id!)
    // Messages published while it reconnects may be lost (at most once); keep publishing until one arrives.
    await waitFor(async () => {
      await a.broker.publish(app, [{ channel: 'again', data: 'x' }], OPTS).catch(() => {})
      return a.rec.of(app, 'again').length > 0
    })
    const seqs = a.rec.of(app, 'again').map((m) => m.seq)
    expect(seqs.length).toBeGreaterThan(0)
  })

  it('turns a flushed database into a new epoch, never a silent gap', async () => {
    const url = 'redis://127.0.0.1:6379/15'
    const db15 = new Redis(url)
    try {
      const a = await node({ url })
      const app = newTestAppId()
      const outs = await a.broker.publish(
        app,
        [1, 2, 3].map((i) => ({ channel: 'f', data: i })),
        OPTS,
      )
      const old = { epoch: outs[0]!.message.epoch, seq: 3 }
      await db15.flushdb()
      const [next] = await a.broker.publish(app, [{ channel: 'f', data: 4 }], OPTS)
      expect(next!.message.seq).toBe(1)
      expect(next!.message.epoch).not.toBe(old.epoch)
      const r = await a.broker.recover(app, 'f', old, 100)
      expect(r).toEqual({ position: { epoch: next!.message.epoch, seq: 1 }, messages: [], recovered: false })
      expect((await a.broker.history(app, 'f', { limit: 10 })).messages.map((m) => m.data)).toEqual([4])
    } finally {
      await db15.quit()
    }
  })

  it('fails fast instead of hanging when Redis cannot be reached', async () => {
    const broker = newBroker({ url: 'redis://127.0.0.1:1', commandTimeoutMs: 1000 })
    await expect(broker.start(new Recorder(), () => ({}))).rejects.toThrow()
    await expect(broker.ping()).rejects.toThrow()
    await expect(broker.publish(newTestAppId(), [{ channel: 'x', data: 1 }], OPTS)).rejects.toThrow()
    await broker.close()
  })

  it('pings a reachable Redis', async () => {
    const { broker } = await node()
    await expect(broker.ping()).resolves.toBeUndefined()
  })
})
