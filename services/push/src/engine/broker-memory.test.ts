import { describe, expect, it } from 'vitest'
import { brokerContract, newTestAppId, Recorder } from './broker.contract.js'
import type { Message } from '@herald/protocol'
import type { BrokerHandler } from './broker.js'
import { MemoryBroker } from './broker-memory.js'
import type { ChannelCache, ChannelWindow } from './channel-cache.js'
import { MemoryPresence } from './presence-memory.js'

brokerContract('memory', {
  shared: false,
  async start(handler, localState) {
    const broker = new MemoryBroker()
    await broker.start(handler, localState ?? (() => ({})))
    return broker
  },
  async startWithClock(handler, now) {
    const broker = new MemoryBroker({ now })
    await broker.start(handler, () => ({}))
    return broker
  },
})

describe('MemoryBroker', () => {
  it('delivers synchronously, before publish resolves, in order', async () => {
    const broker = new MemoryBroker()
    const rec = new Recorder()
    await broker.start(rec, () => ({}))
    const app = newTestAppId()
    const pending = broker.publish(
      app,
      [
        { channel: 'a', data: 1 },
        { channel: 'a', data: 2 },
      ],
      { historySize: 10, historyTtlSeconds: 60 },
    )
    expect(rec.of(app, 'a').map((m) => m.data)).toEqual([1, 2])
    await pending
    await broker.close()
  })

  it('evicts idle channels on its sweep, but never ones with subscribers or presence', async () => {
    const presence = new MemoryPresence()
    const clock = { now: 1_000_000 }
    const broker = new MemoryBroker({ sweepIntervalMs: 20, now: () => clock.now, inUse: (appId, channel) => presence.has(appId, channel) })
    await broker.start(new Recorder(), () => ({}))
    const app = newTestAppId()
    const opts = { historySize: 10, historyTtlSeconds: 1 }
    const [idle] = await broker.publish(app, [{ channel: 'idle', data: 1 }], opts)
    const [subbed] = await broker.publish(app, [{ channel: 'subbed', data: 1 }], opts)
    const [present] = await broker.publish(app, [{ channel: 'present', data: 1 }], opts)
    await broker.subscribe(app, 'subbed')
    await presence.add(app, 'present', 'c1', { clientId: 'u' })
    clock.now += 1001 // past the 1 s history TTL: every message has expired
    const internal = (broker as unknown as { cache: ChannelCache<ChannelWindow> }).cache
    await new Promise<void>((resolve) => {
      const t = setInterval(() => {
        if (!internal.peek(app, 'idle')) resolve(clearInterval(t))
      }, 20)
    })
    expect((await broker.position(app, 'subbed')).epoch).toBe(subbed!.message.epoch)
    expect((await broker.position(app, 'present')).epoch).toBe(present!.message.epoch)
    expect((await broker.position(app, 'idle')).epoch).not.toBe(idle!.message.epoch)
    await broker.close()
  })

  it('hands the hub the message JSON built around dataJson, equal to JSON.stringify(message)', async () => {
    const broker = new MemoryBroker()
    const got: Array<{ message: Message; json: string | undefined }> = []
    const handler: BrokerHandler = { onMessage: (_app, message, json) => void got.push({ message, json }), onPresence: () => {} }
    await broker.start(handler, () => ({}))
    const app = newTestAppId()
    const data = { text: 'h\u00e9 "q" \\ \u2028', n: [1, 2.5, null], nested: { ok: true } }
    const opts = { historySize: 10, historyTtlSeconds: 60 }
    await broker.subscribe(app, 'a')
    await broker.subscribe(app, 'b/c')
    await broker.publish(app, [{ channel: 'a', data, dataJson: JSON.stringify(data) }], opts)
    await broker.publish(app, [{ channel: 'b/c', name: 'ev"1', data: 'x', dataJson: '"x"', id: 'id\\"7', clientId: 'u"1' }], opts)
    await broker.publish(app, [{ channel: 'a', data: 3 }], opts)
    await broker.publish(app, [{ channel: 'nobody', data: 4, dataJson: '4' }], opts)
    expect(got).toHaveLength(4)
    for (const { message, json } of got.slice(0, 2)) expect(json).toBe(JSON.stringify(message))
    // Without dataJson, or on a channel no hub subscribed to, the hub serializes (if it has anyone to send to).
    expect(got[2]!.json).toBeUndefined()
    expect(got[3]!.json).toBeUndefined()
    await broker.close()
  })
})
