import { describe, expect, it } from 'vitest'
import { Batcher } from './batcher.js'
import type { WebhookEvent } from './events.js'
import { FakeClock } from './fake-clock.js'

function setup(windowMs = 50, maxEvents = 100) {
  const clock = new FakeClock()
  const flushed: Array<{ appId: string; at: number; events: WebhookEvent[] }> = []
  const batcher = new Batcher(
    clock,
    windowMs,
    maxEvents,
    async (appId, events) => void flushed.push({ appId, at: clock.now(), events }),
    () => {},
  )
  return { clock, flushed, batcher }
}

describe('Batcher', () => {
  it('puts events that happen within the window in one batch, in order, and starts a new one after', async () => {
    const { clock, flushed, batcher } = setup()
    batcher.add('a', { name: 'channel_occupied', channel: 'c1' })
    await clock.advance(30)
    batcher.add('a', { name: 'member_added', channel: 'c1', user_id: 'u' })
    expect(flushed).toEqual([])
    await clock.advance(20)
    expect(flushed).toEqual([
      {
        appId: 'a',
        at: clock.now(),
        events: [
          { name: 'channel_occupied', channel: 'c1' },
          { name: 'member_added', channel: 'c1', user_id: 'u' },
        ],
      },
    ])
    batcher.add('a', { name: 'channel_vacated', channel: 'c1' })
    await clock.advance(49)
    expect(flushed.length).toBe(1)
    await clock.advance(1)
    expect(flushed[1]!.events).toEqual([{ name: 'channel_vacated', channel: 'c1' }])
  })

  it('keeps apps apart', async () => {
    const { clock, flushed, batcher } = setup()
    batcher.add('a', { name: 'cache_miss', channel: 'x' })
    batcher.add('b', { name: 'cache_miss', channel: 'y' })
    await clock.advance(50)
    expect(flushed.map((f) => [f.appId, f.events.length])).toEqual([
      ['a', 1],
      ['b', 1],
    ])
  })

  it('sends a full batch at once, without waiting for the window', async () => {
    const { clock, flushed, batcher } = setup(50, 3)
    for (let i = 0; i < 4; i++) batcher.add('a', { name: 'cache_miss', channel: `c${i}` })
    await clock.advance(0)
    expect(flushed.map((f) => f.events.length)).toEqual([3])
    await clock.advance(50)
    expect(flushed.map((f) => f.events.length)).toEqual([3, 1])
  })

  it('keeps only the latest subscription_count of a channel in a batch, at its latest place', async () => {
    const { clock, flushed, batcher } = setup()
    batcher.add('a', { name: 'subscription_count', channel: 'c', subscription_count: 1 })
    batcher.add('a', { name: 'subscription_count', channel: 'd', subscription_count: 1 })
    batcher.add('a', { name: 'channel_occupied', channel: 'c' })
    batcher.add('a', { name: 'subscription_count', channel: 'c', subscription_count: 2 })
    await clock.advance(50)
    expect(flushed[0]!.events).toEqual([
      { name: 'subscription_count', channel: 'd', subscription_count: 1 },
      { name: 'channel_occupied', channel: 'c' },
      { name: 'subscription_count', channel: 'c', subscription_count: 2 },
    ])
  })

  it("runs one app's flushes one after the other, and drain hands over what is waiting", async () => {
    const clock = new FakeClock()
    const order: string[] = []
    let release!: () => void
    const gate = new Promise<void>((r) => (release = r))
    const batcher = new Batcher(
      clock,
      50,
      1,
      async (_appId, events) => {
        const c = (events[0] as { channel: string }).channel
        if (c === 'first') await gate
        order.push(c)
      },
      () => {},
    )
    batcher.add('a', { name: 'cache_miss', channel: 'first' })
    batcher.add('a', { name: 'cache_miss', channel: 'second' })
    await clock.advance(0)
    expect(order).toEqual([])
    release()
    await batcher.drain()
    expect(order).toEqual(['first', 'second'])
  })
})
