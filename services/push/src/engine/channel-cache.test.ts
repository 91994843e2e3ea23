import { describe, expect, it } from 'vitest'
import { ChannelCache, type ChannelWindow, newChannelWindow } from './channel-cache.js'

interface TestWindow extends ChannelWindow {
  pending: boolean
}

function cacheWith(clock: { now: number }, extra: { inUse?: (appId: string, channel: string) => boolean } = {}) {
  let epochs = 0
  const opened: Array<{ channel: string; stale: boolean }> = []
  const cache = new ChannelCache<TestWindow>({
    now: () => clock.now,
    open: (_appId, channel, now, stale) => {
      opened.push({ channel, stale: stale !== undefined })
      return { ...newChannelWindow(`e_${++epochs}`, 0, now), options: { historySize: 10, historyTtlSeconds: 60 }, pending: false }
    },
    busy: (ch) => ch.pending,
    ...extra,
  })
  return { cache, opened }
}

describe('ChannelCache', () => {
  it('opens a channel once, and again (stale) only when unused past its history TTL', () => {
    const clock = { now: 1_000_000 }
    const { cache, opened } = cacheWith(clock)
    const first = cache.get('app', 'c')
    clock.now += 60_000
    expect(cache.get('app', 'c')).toBe(first)
    clock.now += 1
    expect(cache.position('app', 'c').epoch).toBe('e_2')
    expect(opened).toEqual([
      { channel: 'c', stale: false },
      { channel: 'c', stale: true },
    ])
  })

  it('keeps the epoch of a subscribed, busy or in-use channel, and restarts its idle time on unsubscribe', () => {
    const clock = { now: 2_000_000 }
    const { cache } = cacheWith(clock, { inUse: (_appId, channel) => channel === 'present' })
    cache.subscribe('app', 'subbed')
    cache.get('app', 'busy').pending = true
    cache.get('app', 'present')
    clock.now += 120_000
    expect(cache.position('app', 'subbed').epoch).toBe('e_1')
    expect(cache.position('app', 'busy').epoch).toBe('e_2')
    expect(cache.position('app', 'present').epoch).toBe('e_3')
    cache.unsubscribe('app', 'subbed')
    clock.now += 60_000
    expect(cache.position('app', 'subbed').epoch).toBe('e_1')
    clock.now += 1
    expect(cache.position('app', 'subbed').epoch).toBe('e_4')
  })

  it('evicts what the predicate names and forgets apps left empty', () => {
    const clock = { now: 3_000_000 }
    const { cache } = cacheWith(clock)
    cache.get('a', 'x')
    cache.get('b', 'y')
    cache.get('b', 'z')
    cache.evict((_ch, appId, channel) => appId === 'a' || channel === 'y')
    expect(cache.peek('a', 'x')).toBeUndefined()
    expect(cache.peek('b', 'y')).toBeUndefined()
    expect(cache.peek('b', 'z')?.epoch).toBe('e_3')
  })
})
