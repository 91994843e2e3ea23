import type { Message, PresenceEvent } from '@herald/protocol'
import { afterEach, describe, expect, it, vi } from 'vitest'
import { MemoryBroker } from './broker-memory.js'
import { Hub } from './hub.js'
import { ChannelSubscription } from './subscription.js'

const opts = { historySize: 100, historyTtlSeconds: 3600 }
let broker: MemoryBroker

async function setup(drop: (m: Message) => boolean = () => false) {
  broker = new MemoryBroker()
  const hub = new Hub(broker)
  // A lossy link between broker and hub, as Redis pub/sub can be while it reconnects.
  await broker.start(
    {
      onMessage: (appId, m, json) => (drop(m) ? undefined : hub.onMessage(appId, m, json)),
      onPresence: (appId, e: PresenceEvent) => hub.onPresence(appId, e),
    },
    () => hub.localState(),
  )
  const got: Array<{ kind: string; seq?: number; recovered?: boolean }> = []
  const sub = new ChannelSubscription(
    'app_1',
    'chat',
    {
      subscribed: (i) => got.push({ kind: 'subscribed', seq: i.seq, ...(i.recovered === undefined ? {} : { recovered: i.recovered }) }),
      message: (m) => got.push({ kind: 'message', seq: m.message.seq }),
      presence: () => got.push({ kind: 'presence' }),
    },
    hub,
    broker,
  )
  return { hub, sub, got }
}

const pub = (n: number) => broker.publish('app_1', [{ channel: 'chat', data: n }], opts)

afterEach(() => broker?.close())

describe('ChannelSubscription', () => {
  it('replays what was missed after since, then live, each once', async () => {
    const { sub, got } = await setup()
    await pub(1)
    const pos = await broker.position('app_1', 'chat')
    await pub(2)
    await pub(3)
    await sub.start({ since: { epoch: pos.epoch, seq: 1 }, maxReplay: 100 })
    await pub(4)
    expect(got).toEqual([
      { kind: 'subscribed', seq: 3, recovered: true },
      { kind: 'message', seq: 2 },
      { kind: 'message', seq: 3 },
      { kind: 'message', seq: 4 },
    ])
  })

  it('repairs a gap in live delivery from history, in order', async () => {
    const { sub, got } = await setup((m) => m.seq === 2 || m.seq === 3)
    await sub.start({ maxReplay: 100 })
    await pub(1)
    await pub(2)
    await pub(3)
    await pub(4)
    const seqs = () => got.filter((g) => g.kind === 'message').map((g) => g.seq)
    await vi.waitFor(() => expect(seqs()).toEqual([1, 2, 3, 4]))
    await pub(5)
    await vi.waitFor(() => expect(seqs()).toEqual([1, 2, 3, 4, 5]))
  })

  it('drops duplicates at or below the last delivered seq', async () => {
    const { hub, sub, got } = await setup()
    await sub.start({ maxReplay: 100 })
    const [o] = await pub(1)
    hub.onMessage('app_1', o!.message)
    expect(got.filter((g) => g.kind === 'message')).toHaveLength(1)
  })
})

describe('ChannelSubscription: a message published with its session as exclude', () => {
  async function excludeSetup(drop: (m: Message) => boolean = () => false) {
    broker = new MemoryBroker()
    const hub = new Hub(broker)
    await broker.start(
      {
        onMessage: (appId, m, json, exclude) => (drop(m) ? undefined : hub.onMessage(appId, m, json, exclude)),
        onPresence: (appId, e: PresenceEvent) => hub.onPresence(appId, e),
      },
      () => hub.localState(),
    )
    const seqs: number[] = []
    const out = { subscribed: () => {}, message: (m: { message: Message }) => seqs.push(m.message.seq), presence: () => {} }
    const sub = new ChannelSubscription('app_1', 'chat', out, hub, broker, 's1')
    const other = new ChannelSubscription('app_1', 'chat', { ...out, message: () => {} }, hub, broker, 's2')
    let recovers = 0
    const recover = broker.recover.bind(broker)
    broker.recover = (...args) => {
      recovers++
      return recover(...args)
    }
    await sub.start({ maxReplay: 100 })
    await other.start({ maxReplay: 100 })
    return { seqs, recovers: () => recovers }
  }
  const pubFrom = (n: number, exclude?: string) => broker.publish('app_1', [{ channel: 'chat', data: n, ...(exclude ? { exclude } : {}) }], opts)

  it('is not written, and counts as seen: the next message is no gap to repair from history', async () => {
    const { seqs, recovers } = await excludeSetup()
    await pubFrom(1, 's1')
    await pubFrom(2)
    await pubFrom(3, 's1')
    await pubFrom(4)
    expect(seqs).toEqual([2, 4])
    expect(recovers()).toBe(0)
  })

  it('stays out when a real gap is repaired from history that holds it', async () => {
    const { seqs } = await excludeSetup((m) => m.seq === 1)
    await pubFrom(1)
    await pubFrom(2, 's1')
    await pubFrom(3)
    const deadline = Date.now() + 10_000
    while (!seqs.includes(3) && Date.now() < deadline) await new Promise((r) => setTimeout(r, 5))
    expect(seqs).toEqual([1, 3])
  })
})
