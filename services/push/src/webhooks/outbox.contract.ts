import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { DELIVERY_LOG_SIZE, type DeliveryAttempt, type Outbox } from './outbox.js'

export interface OutboxFixture {
  outbox: Outbox
  /** A second handle on the same storage (another connection or node), when the driver has one. */
  another?: () => Outbox
  /** Two apps that exist in the store. */
  apps: [string, string]
  /** Deletes an app the way the admin API does. */
  deleteApp(appId: string): Promise<void>
  close(): Promise<void>
}

const LEASE = 30_000
const attempt = (n: number, outcome: DeliveryAttempt['outcome'], at: number, httpStatus?: number): DeliveryAttempt => ({
  outcome,
  attempt: n,
  latencyMs: 12,
  at,
  ...(httpStatus !== undefined ? { httpStatus } : {}),
})

/**
 * The behaviour every {@link Outbox} driver must have, run by each driver's test file.
 *
 * @example
 * describeOutboxContract('sqlite', async () => ({ outbox, apps: [a, b], deleteApp, close }))
 */
export function describeOutboxContract(driver: string, setup: () => Promise<OutboxFixture>): void {
  describe(`Outbox contract (${driver})`, () => {
    let f: OutboxFixture
    let o: Outbox
    let A: string
    let B: string
    // Each test uses its own time range, so leases and due times of earlier tests never matter.
    let base = 1_000_000_000_000
    const era = () => (base += 10_000_000)
    const drain = async (now: number) => {
      for (;;) {
        const got = await o.claim('drain', now, 1, 100)
        if (got.length === 0) return
        for (const e of got) await o.finish(e, attempt(1, 'dropped', now))
      }
    }

    beforeAll(async () => {
      f = await setup()
      o = f.outbox
      ;[A, B] = f.apps
    })
    afterAll(() => f.close())

    it('keeps an entry with its body and event names and leases it to one claimer until the lease expires', async () => {
      const t = era()
      await o.enqueue({ appId: A, url: 'http://127.0.0.1:1/a', body: '{"time_ms":1,"events":[]}', eventNames: ['channel_occupied'] }, t)
      const [e, ...rest] = await o.claim('n1', t, LEASE, 10)
      expect(rest).toEqual([])
      expect(e).toMatchObject({
        appId: A,
        url: 'http://127.0.0.1:1/a',
        body: '{"time_ms":1,"events":[]}',
        eventNames: ['channel_occupied'],
        createdAt: t,
        attempts: 0,
      })
      expect(await o.claim('n2', t + 1, LEASE, 10)).toEqual([])
      expect(await o.claim('n2', t + LEASE - 1, LEASE, 10)).toEqual([])
      const again = await o.claim('n2', t + LEASE + 1, LEASE, 10)
      expect(again.map((x) => x.id)).toEqual([e!.id])
      await drain(t + 3 * LEASE)
    })

    it('is FIFO per (app, URL): only the oldest entry of a queue is claimed, the next after it is finished', async () => {
      const t = era()
      for (const n of [1, 2, 3]) await o.enqueue({ appId: A, url: 'http://h/q', body: String(n), eventNames: [] }, t)
      const first = await o.claim('n1', t, LEASE, 10)
      expect(first.map((e) => e.body)).toEqual(['1'])
      await o.finish(first[0]!, attempt(1, 'delivered', t, 200))
      const second = await o.claim('n1', t, LEASE, 10)
      expect(second.map((e) => e.body)).toEqual(['2'])
      // A retried head keeps its place: the third waits behind it.
      await o.retry(second[0]!, t + 500, attempt(1, 'retrying', t, 500))
      expect(await o.claim('n1', t + 100, LEASE, 10)).toEqual([])
      const retried = await o.claim('n1', t + 500, LEASE, 10)
      expect(retried.map((e) => [e.body, e.attempts])).toEqual([['2', 1]])
      await drain(t + 3 * LEASE)
    })

    it('claims the heads of independent queues (other URL, other app) together, up to the limit', async () => {
      const t = era()
      await o.enqueue({ appId: A, url: 'http://h/1', body: 'a1', eventNames: [] }, t)
      await o.enqueue({ appId: A, url: 'http://h/1', body: 'a1-second', eventNames: [] }, t)
      await o.enqueue({ appId: A, url: 'http://h/2', body: 'a2', eventNames: [] }, t)
      await o.enqueue({ appId: B, url: 'http://h/1', body: 'b1', eventNames: [] }, t)
      expect((await o.claim('n1', t, LEASE, 2)).length).toBe(2)
      const rest = await o.claim('n1', t, LEASE, 10)
      expect(rest.length).toBe(1)
      expect(rest[0]!.body).not.toBe('a1-second')
      expect(await o.depth()).toMatchObject({ [A]: 3, [B]: 1 })
      await drain(t + 3 * LEASE)
      expect((await o.depth())[A] ?? 0).toBe(0)
    })

    it('logs every attempt, newest first, and keeps the latest ones per app', async () => {
      const t = era()
      await o.enqueue({ appId: B, url: 'http://h/log', body: 'x', eventNames: ['member_added', 'member_removed'] }, t)
      const [e] = await o.claim('n1', t, LEASE, 1)
      await o.retry(e!, t + 10, { outcome: 'retrying', attempt: 1, latencyMs: 5000, at: t, error: 'timeout' })
      const [e2] = await o.claim('n1', t + 10, LEASE, 1)
      await o.finish(e2!, attempt(2, 'delivered', t + 10, 204))
      const log = await o.deliveries(B, 2)
      expect(log).toEqual([
        {
          id: expect.any(Number),
          url: 'http://h/log',
          eventNames: ['member_added', 'member_removed'],
          outcome: 'delivered',
          httpStatus: 204,
          attempt: 2,
          latencyMs: 12,
          at: t + 10,
        },
        {
          id: expect.any(Number),
          url: 'http://h/log',
          eventNames: ['member_added', 'member_removed'],
          outcome: 'retrying',
          error: 'timeout',
          attempt: 1,
          latencyMs: 5000,
          at: t,
        },
      ])
      expect(await o.deliveries(A, 100)).not.toContainEqual(expect.objectContaining({ url: 'http://h/log' }))
      for (let i = 0; i < DELIVERY_LOG_SIZE + 5; i++) {
        await o.enqueue({ appId: B, url: 'http://h/many', body: String(i), eventNames: [] }, t)
        const [x] = await o.claim('n1', t, LEASE, 1)
        await o.finish(x!, attempt(1, 'delivered', t + i, 200))
      }
      const kept = await o.deliveries(B, 1000)
      expect(kept.length).toBe(DELIVERY_LOG_SIZE)
      expect(kept[0]!.at).toBe(t + DELIVERY_LOG_SIZE + 4)
    })

    it('says when the next entry is due, and releases the leases of a restarted owner', async () => {
      const t = era()
      await drain(t)
      expect(await o.nextDueAt()).toBeNull()
      await o.enqueue({ appId: A, url: 'http://h/due', body: 'd', eventNames: [] }, t)
      const [e] = await o.claim('crashed', t, LEASE, 1)
      expect(await o.nextDueAt()).toBe(t + LEASE)
      await o.releaseAll('someone-else')
      expect(await o.claim('n1', t + 1, LEASE, 1)).toEqual([])
      await o.releaseAll('crashed')
      const [again] = await o.claim('n1', t + 1, LEASE, 1)
      expect(again!.id).toBe(e!.id)
      await o.releaseAll(null)
      expect((await o.claim('n2', t + 2, LEASE, 1)).map((x) => x.id)).toEqual([e!.id])
      await drain(t + 3 * LEASE)
    })

    it('never leases one entry to two claimers racing on separate handles', async () => {
      const t = era()
      const other = f.another?.() ?? o
      for (let i = 0; i < 30; i++) await o.enqueue({ appId: A, url: `http://h/race/${i}`, body: String(i), eventNames: [] }, t)
      const claimed: number[] = []
      const worker = async (handle: Outbox, owner: string) => {
        for (;;) {
          const got = await handle.claim(owner, t, LEASE, 3)
          if (got.length === 0) return
          claimed.push(...got.map((e) => e.id))
        }
      }
      await Promise.all([worker(o, 'n1'), worker(other, 'n2'), worker(o, 'n3'), worker(other, 'n4')])
      expect(claimed.length).toBe(30)
      expect(new Set(claimed).size).toBe(30)
      if (other !== o) await other.close()
      await drain(t + 3 * LEASE)
    })

    it('drops the entries and the log of a deleted app', async () => {
      const t = era()
      await o.enqueue({ appId: B, url: 'http://h/gone', body: 'g', eventNames: [] }, t)
      await f.deleteApp(B)
      expect((await o.depth())[B] ?? 0).toBe(0)
      expect(await o.claim('n1', t, LEASE, 10)).toEqual([])
      expect(await o.deliveries(B, 10)).toEqual([])
    })
  })
}
