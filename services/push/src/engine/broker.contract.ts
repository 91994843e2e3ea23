import { randomBytes } from 'node:crypto'
import type { Message, PresenceEvent } from '@herald/protocol'
import { afterEach, describe, expect, it } from 'vitest'
import type { Broker, BrokerHandler, ChannelOptions, NodeState } from './broker.js'

/** How the conformance suite gets brokers of one driver. */
export interface BrokerFactory {
  /** A started broker. With a `shared` driver every call is one more node of the same cluster. */
  start(handler: BrokerHandler, localState?: () => NodeState): Promise<Broker>
  /** True when brokers from `start` share state (redis); false when each is its own world (memory). */
  shared: boolean
  /**
   * A started broker on the given clock, for drivers whose expiry follows their own clock
   * (memory, sqlite): TTLs are then tested without waiting on the wall clock. Redis expires
   * by the server's time, so its TTL test waits for real.
   */
  startWithClock?(handler: BrokerHandler, now: () => number): Promise<Broker>
}

/** A {@link BrokerHandler} that records what it is told, for tests. */
export class Recorder implements BrokerHandler {
  readonly messages: { appId: string; message: Message; json?: string; exclude?: string }[] = []
  readonly presence: { appId: string; event: PresenceEvent }[] = []

  onMessage(appId: string, message: Message, json?: string, exclude?: string): void {
    const entry: { appId: string; message: Message; json?: string; exclude?: string } = json === undefined ? { appId, message } : { appId, message, json }
    if (exclude !== undefined) entry.exclude = exclude
    this.messages.push(entry)
  }

  onPresence(appId: string, event: PresenceEvent): void {
    this.presence.push({ appId, event })
  }

  of(appId: string, channel: string): Message[] {
    return this.messages.filter((m) => m.appId === appId && m.message.channel === channel).map((m) => m.message)
  }

  presenceOf(appId: string, channel: string): string[] {
    return this.presence.filter((p) => p.appId === appId && p.event.channel === channel).map((p) => `${p.event.action}:${p.event.member.clientId}`)
  }
}

/** Polls `check` until it stops throwing (or returns true), up to `timeoutMs`. */
export async function waitFor(check: () => unknown | Promise<unknown>, timeoutMs = 15_000): Promise<void> {
  const deadline = Date.now() + timeoutMs
  for (;;) {
    try {
      const ok = await check()
      if (ok !== false) return
      if (Date.now() > deadline) throw new Error('condition not met in time')
    } catch (err) {
      if (Date.now() > deadline) throw err
    }
    await new Promise((r) => setTimeout(r, 25))
  }
}

export const newTestAppId = (): string => 'app_' + randomBytes(9).toString('base64url')

const OPTS: ChannelOptions = { historySize: 100, historyTtlSeconds: 3600 }

/**
 * The behaviour every {@link Broker} driver must show, run once per driver.
 *
 * @example
 * brokerContract('memory', { shared: false, start: async (h) => { const b = new MemoryBroker(); await b.start(h, () => ({})); return b } })
 */
export function brokerContract(name: string, factory: BrokerFactory): void {
  describe(`Broker contract: ${name}`, () => {
    const started: Broker[] = []
    afterEach(async () => {
      await Promise.all(started.splice(0).map((b) => b.close()))
    })

    async function node(localState?: () => NodeState): Promise<{ broker: Broker; rec: Recorder }> {
      const rec = new Recorder()
      const broker = await factory.start(rec, localState)
      started.push(broker)
      return { broker, rec }
    }

    /** Two nodes of one cluster, or the same broker twice when the driver is single-process. */
    async function twoNodes(): Promise<[{ broker: Broker; rec: Recorder }, { broker: Broker; rec: Recorder }]> {
      const a = await node()
      return [a, factory.shared ? await node() : a]
    }

    /** Publishes a sentinel and waits until `rec` saw it: everything published before it has arrived. */
    async function settle(broker: Broker, rec: Recorder, appId: string, channel: string): Promise<void> {
      const [o] = await broker.publish(appId, [{ channel, name: 'sentinel', data: null }], OPTS)
      await waitFor(() => rec.of(appId, channel).some((m) => m.id === o!.message.id))
    }

    it('starts seq at 1 in the epoch of the fresh position and grows by exactly 1', async () => {
      const { broker } = await node()
      const app = newTestAppId()
      const before = await broker.position(app, 'chat')
      expect(before.seq).toBe(0)
      expect(before.epoch).toMatch(/^e_[A-Za-z0-9_-]{11}$/)
      const outs = []
      for (let i = 0; i < 5; i++) outs.push(...(await broker.publish(app, [{ channel: 'chat', data: { i } }], OPTS)))
      expect(outs.map((o) => o.message.seq)).toEqual([1, 2, 3, 4, 5])
      expect(new Set(outs.map((o) => o.message.epoch))).toEqual(new Set([before.epoch]))
      expect(outs.every((o) => !o.duplicate)).toBe(true)
      expect(await broker.position(app, 'chat')).toEqual({ epoch: before.epoch, seq: 5 })
    })

    it('builds messages in the contract shape: server id, ts, name and clientId only when set', async () => {
      const { broker } = await node()
      const app = newTestAppId()
      const t0 = Date.now()
      const [plain, full] = await broker.publish(
        app,
        [
          { channel: 'shape', data: { nested: [1, 'two', null, 3.25] } },
          { channel: 'shape', data: 'x', name: 'greeting', clientId: 'u1', id: 'pub-1' },
        ],
        OPTS,
      )
      expect(plain!.message.id).toMatch(/^m_[A-Za-z0-9_-]+$/)
      expect(plain!.message).not.toHaveProperty('name')
      expect(plain!.message).not.toHaveProperty('clientId')
      expect(plain!.message.data).toEqual({ nested: [1, 'two', null, 3.25] })
      expect(plain!.message.ts).toBeGreaterThanOrEqual(t0)
      expect(plain!.message.ts).toBeLessThanOrEqual(Date.now())
      expect(full!.message).toMatchObject({ channel: 'shape', id: 'pub-1', seq: 2, name: 'greeting', clientId: 'u1', data: 'x' })
      const { messages } = await broker.history(app, 'shape', { limit: 10 })
      expect(messages).toEqual([plain!.message, full!.message])
    })

    it('delivers published messages to a subscribed node in order, with the JSON when given', async () => {
      const [a, b] = await twoNodes()
      const app = newTestAppId()
      await b.broker.subscribe(app, 'live')
      const outs = await a.broker.publish(
        app,
        [1, 2, 3].map((i) => ({ channel: 'live', data: i })),
        OPTS,
      )
      for (let i = 4; i <= 6; i++) outs.push(...(await a.broker.publish(app, [{ channel: 'live', data: i }], OPTS)))
      await waitFor(() => expect(b.rec.of(app, 'live')).toHaveLength(6))
      expect(b.rec.of(app, 'live')).toEqual(outs.map((o) => o.message))
      for (const m of b.rec.messages) if (m.json !== undefined) expect(JSON.parse(m.json)).toEqual(m.message)
    })

    it("carries a publish input's exclude to every subscribed node, outside the message", async () => {
      const [a, b] = await twoNodes()
      const app = newTestAppId()
      await b.broker.subscribe(app, 'ex')
      const odd = 'c_{"odd"}\nid'
      const outs = await a.broker.publish(
        app,
        [
          { channel: 'ex', data: 1, exclude: '123.456' },
          { channel: 'ex', data: 2 },
          { channel: 'ex', data: 3, exclude: odd },
        ],
        OPTS,
      )
      await waitFor(() => expect(b.rec.of(app, 'ex')).toHaveLength(3))
      const got = b.rec.messages.filter((m) => m.appId === app)
      expect(got.map((m) => m.exclude)).toEqual(['123.456', undefined, odd])
      expect(got.map((m) => m.message)).toEqual(outs.map((o) => o.message))
      for (const m of got) {
        expect(m.message).not.toHaveProperty('exclude')
        if (m.json !== undefined) expect(JSON.parse(m.json)).toEqual(m.message)
      }
      const { messages } = await a.broker.history(app, 'ex', { limit: 10 })
      expect(messages).toEqual(outs.map((o) => o.message))
    })

    it('never gives two concurrent publishers the same seq', async () => {
      const [a, b] = await twoNodes()
      const app = newTestAppId()
      const opts = { historySize: 500, historyTtlSeconds: 3600 }
      const one = (broker: Broker, i: number) => broker.publish(app, [{ channel: 'race', data: i }], opts)
      const results = await Promise.all(Array.from({ length: 120 }, (_, i) => one(i % 2 === 0 ? a.broker : b.broker, i)))
      const seqs = results.map((r) => r[0]!.message.seq).sort((x, y) => x - y)
      expect(seqs).toEqual(Array.from({ length: 120 }, (_, i) => i + 1))
      const { messages } = await a.broker.history(app, 'race', { limit: 500 })
      expect(messages.map((m) => m.seq)).toEqual(seqs)
      expect(new Set(messages.map((m) => m.epoch)).size).toBe(1)
    })

    it('bounds history by historySize', async () => {
      const { broker } = await node()
      const app = newTestAppId()
      const opts = { historySize: 3, historyTtlSeconds: 3600 }
      for (let i = 1; i <= 5; i++) await broker.publish(app, [{ channel: 'small', data: i }], opts)
      await broker.publish(
        app,
        [6, 7].map((i) => ({ channel: 'small', data: i })),
        opts,
      )
      const { messages } = await broker.history(app, 'small', { limit: 100 })
      expect(messages.map((m) => m.seq)).toEqual([5, 6, 7])
      expect(messages.map((m) => m.data)).toEqual([5, 6, 7])
    })

    it('drops history older than historyTtlSeconds, and a channel idle past it comes back in a new epoch', async () => {
      const clock = { now: 1_000_000 }
      let broker: Broker
      if (factory.startWithClock) {
        broker = await factory.startWithClock(new Recorder(), () => clock.now)
        started.push(broker)
      } else broker = (await node()).broker
      // With a clock of the test's own, expiry happens when the test moves it; on the wall clock
      // (redis) a TTL long enough that the reads before it cannot miss it.
      const ttlSeconds = factory.startWithClock ? 2 : 3
      const pass = async (check: () => Promise<void>) => {
        if (!factory.startWithClock) return waitFor(check)
        clock.now += ttlSeconds * 1000 + 1
        await check()
      }
      const app = newTestAppId()
      const opts = { historySize: 100, historyTtlSeconds: ttlSeconds }
      const [first] = await broker.publish(app, [{ channel: 'ttl', data: 'old' }], opts)
      const epoch = first!.message.epoch
      expect((await broker.history(app, 'ttl', { limit: 10 })).messages.map((m) => m.data)).toEqual(['old'])
      await pass(async () => expect((await broker.history(app, 'ttl', { limit: 10 })).messages).toEqual([]))
      // The whole channel is lost once idle past its TTL: the epoch says so, seq restarts.
      await pass(async () => expect((await broker.position(app, 'ttl')).epoch).not.toBe(epoch))
      const [next] = await broker.publish(app, [{ channel: 'ttl', data: 'new' }], opts)
      expect(next!.message.seq).toBe(1)
      expect(next!.message.epoch).not.toBe(epoch)
      const rec = await broker.recover(app, 'ttl', { epoch, seq: 1 }, 100)
      expect(rec.recovered).toBe(false)
      expect(rec.position).toEqual({ epoch: next!.message.epoch, seq: 1 })
    })

    it('answers history with and without `after`', async () => {
      const { broker } = await node()
      const app = newTestAppId()
      await broker.publish(
        app,
        Array.from({ length: 10 }, (_, i) => ({ channel: 'h', data: i + 1 })),
        OPTS,
      )
      const seqs = async (q: { limit: number; after?: number }) => (await broker.history(app, 'h', q)).messages.map((m) => m.seq)
      expect(await seqs({ limit: 4 })).toEqual([7, 8, 9, 10])
      expect(await seqs({ limit: 4, after: 3 })).toEqual([4, 5, 6, 7])
      expect(await seqs({ limit: 100, after: 8 })).toEqual([9, 10])
      expect(await seqs({ limit: 5, after: 10 })).toEqual([])
      expect(await seqs({ limit: 100, after: 0 })).toEqual([1, 2, 3, 4, 5, 6, 7, 8, 9, 10])
      expect(await seqs({ limit: 100 })).toHaveLength(10)
      const fresh = await broker.history(app, 'empty', { limit: 10 })
      expect(fresh.messages).toEqual([])
      expect(fresh.epoch).toBe((await broker.position(app, 'empty')).epoch)
    })

    it('recovers exactly the missed messages, in order, inside the window', async () => {
      const { broker } = await node()
      const app = newTestAppId()
      const outs = await broker.publish(
        app,
        Array.from({ length: 6 }, (_, i) => ({ channel: 'r', data: i + 1 })),
        OPTS,
      )
      const epoch = outs[0]!.message.epoch
      const r = await broker.recover(app, 'r', { epoch, seq: 2 }, 100)
      expect(r.recovered).toBe(true)
      expect(r.position).toEqual({ epoch, seq: 6 })
      expect(r.messages).toEqual(outs.slice(2).map((o) => o.message))
      const none = await broker.recover(app, 'r', { epoch, seq: 6 }, 100)
      expect(none).toEqual({ position: { epoch, seq: 6 }, messages: [], recovered: true })
      const all = await broker.recover(app, 'r', { epoch, seq: 0 }, 100)
      expect(all.recovered).toBe(true)
      expect(all.messages.map((m) => m.seq)).toEqual([1, 2, 3, 4, 5, 6])
    })

    it('refuses to recover across an epoch, from outside the window, past the limit or from the future', async () => {
      const { broker } = await node()
      const app = newTestAppId()
      const opts = { historySize: 3, historyTtlSeconds: 3600 }
      const outs = await broker.publish(
        app,
        Array.from({ length: 10 }, (_, i) => ({ channel: 'w', data: i })),
        opts,
      )
      const epoch = outs[0]!.message.epoch
      const position = { epoch, seq: 10 }
      const refused = { position, messages: [], recovered: false }
      expect(await broker.recover(app, 'w', { epoch: 'e_AAAAAAAAAAA', seq: 9 }, 100)).toEqual(refused)
      expect(await broker.recover(app, 'w', { epoch, seq: 2 }, 100)).toEqual(refused)
      expect(await broker.recover(app, 'w', { epoch, seq: 11 }, 100)).toEqual(refused)
      expect(await broker.recover(app, 'w', { epoch, seq: 7 }, 2)).toEqual(refused)
      // The edge of the window: seqs 8..10 are retained, so `since` 7 is the oldest that recovers.
      const edge = await broker.recover(app, 'w', { epoch, seq: 7 }, 3)
      expect(edge.recovered).toBe(true)
      expect(edge.messages.map((m) => m.seq)).toEqual([8, 9, 10])
      expect((await broker.recover(app, 'w', { epoch, seq: 6 }, 100)).recovered).toBe(false)
    })

    it('treats a repeated publisher id as a duplicate: first seq back, not delivered again', async () => {
      const [a, b] = await twoNodes()
      const app = newTestAppId()
      await a.broker.subscribe(app, 'idem')
      const [first] = await a.broker.publish(app, [{ channel: 'idem', id: 'order-1', data: 'first' }], OPTS)
      const [again] = await b.broker.publish(app, [{ channel: 'idem', id: 'order-1', data: 'second' }], OPTS)
      expect(first!.duplicate).toBe(false)
      expect(again!.duplicate).toBe(true)
      expect(again!.message).toEqual(first!.message)
      // The same id on another channel, or in another app, is a different message.
      const [other] = await a.broker.publish(app, [{ channel: 'idem-2', id: 'order-1', data: 'x' }], OPTS)
      expect(other!.duplicate).toBe(false)
      const [otherApp] = await a.broker.publish(newTestAppId(), [{ channel: 'idem', id: 'order-1', data: 'x' }], OPTS)
      expect(otherApp!.duplicate).toBe(false)
      // Within one batch too.
      const batch = await a.broker.publish(
        app,
        [
          { channel: 'idem', id: 'order-2', data: 'a' },
          { channel: 'idem', id: 'order-2', data: 'b' },
        ],
        OPTS,
      )
      expect(batch.map((o) => o.duplicate)).toEqual([false, true])
      expect(batch[1]!.message).toEqual(batch[0]!.message)
      await settle(a.broker, a.rec, app, 'idem')
      expect(a.rec.of(app, 'idem').map((m) => m.data)).toEqual(['first', 'a', null])
      expect((await a.broker.position(app, 'idem')).seq).toBe(3)
    })

    it('applies a batch as one step: consecutive seqs per channel, delivered in order', async () => {
      const [a, b] = await twoNodes()
      const app = newTestAppId()
      await b.broker.subscribe(app, 'x')
      await b.broker.subscribe(app, 'y')
      await a.broker.publish(app, [{ channel: 'x', data: 0 }], OPTS)
      const outs = await a.broker.publish(
        app,
        [
          { channel: 'x', data: 1 },
          { channel: 'y', data: 2 },
          { channel: 'x', data: 3 },
        ],
        OPTS,
      )
      expect(outs.map((o) => `${o.message.channel}${o.message.seq}`)).toEqual(['x2', 'y1', 'x3'])
      await waitFor(() => expect(b.rec.of(app, 'x')).toHaveLength(3))
      await waitFor(() => expect(b.rec.of(app, 'y')).toHaveLength(1))
      const order = b.rec.messages.filter((m) => m.appId === app).map((m) => m.message.data)
      expect(order).toEqual([0, 1, 2, 3])
    })

    it('never interleaves a concurrent publisher into a batch', async () => {
      const [a, b] = await twoNodes()
      const app = newTestAppId()
      const opts = { historySize: 1000, historyTtlSeconds: 3600 }
      const batches = Array.from({ length: 20 }, (_, i) =>
        a.broker.publish(
          app,
          [0, 1, 2].map((j) => ({ channel: 'mix', data: `batch-${i}-${j}` })),
          opts,
        ),
      )
      const singles = Array.from({ length: 40 }, (_, i) => b.broker.publish(app, [{ channel: 'mix', data: `single-${i}` }], opts))
      const [done] = await Promise.all([Promise.all(batches), Promise.all(singles)])
      for (const outs of done) {
        const [x, y, z] = outs.map((o) => o.message.seq)
        expect([y! - x!, z! - y!]).toEqual([1, 1])
      }
      expect((await a.broker.position(app, 'mix')).seq).toBe(100)
    })

    it('keeps apps apart even for the same channel name', async () => {
      const [a, b] = await twoNodes()
      const appA = newTestAppId()
      const appB = newTestAppId()
      await b.broker.subscribe(appA, 'shared')
      await b.broker.subscribe(appB, 'shared')
      await a.broker.publish(
        appA,
        [
          { channel: 'shared', data: 'a1' },
          { channel: 'shared', data: 'a2' },
        ],
        OPTS,
      )
      const [b1] = await a.broker.publish(appB, [{ channel: 'shared', data: 'b1' }], OPTS)
      expect(b1!.message.seq).toBe(1)
      const posA = await a.broker.position(appA, 'shared')
      expect(posA.seq).toBe(2)
      expect(posA.epoch).not.toBe(b1!.message.epoch)
      expect((await a.broker.history(appB, 'shared', { limit: 10 })).messages.map((m) => m.data)).toEqual(['b1'])
      expect((await a.broker.recover(appB, 'shared', posA, 10)).recovered).toBe(false)
      await waitFor(() => expect(b.rec.of(appA, 'shared').map((m) => m.data)).toEqual(['a1', 'a2']))
      await waitFor(() => expect(b.rec.of(appB, 'shared').map((m) => m.data)).toEqual(['b1']))
    })

    it('removeApp drops the app’s history and positions, and nothing of other apps', async () => {
      const { broker } = await node()
      const gone = newTestAppId()
      const kept = newTestAppId()
      const [m] = await broker.publish(gone, [{ channel: 'c', data: 1, id: 'dedupe-me' }], OPTS)
      await broker.publish(kept, [{ channel: 'c', data: 2 }], OPTS)
      await broker.removeApp(gone)
      expect((await broker.history(gone, 'c', { limit: 10 })).messages).toEqual([])
      const pos = await broker.position(gone, 'c')
      expect(pos.seq).toBe(0)
      expect(pos.epoch).not.toBe(m!.message.epoch)
      const [again] = await broker.publish(gone, [{ channel: 'c', data: 1, id: 'dedupe-me' }], OPTS)
      expect(again!.duplicate).toBe(false)
      expect((await broker.history(kept, 'c', { limit: 10 })).messages.map((x) => x.data)).toEqual([2])
    })

    it('answers ping while its backend is reachable', async () => {
      const { broker } = await node()
      await expect(broker.ping()).resolves.toBeUndefined()
    })
  })
}
