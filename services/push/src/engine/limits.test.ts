import { afterEach, describe, expect, it, vi } from 'vitest'
import { AppRateLimiter, TokenBucket } from './limits.js'

afterEach(() => vi.useRealTimers())

describe('TokenBucket', () => {
  it('allows one second of burst, then refills at the rate', () => {
    vi.useFakeTimers({ toFake: ['performance'] })
    const b = new TokenBucket(10)
    for (let i = 0; i < 10; i++) expect(b.take()).toBe(true)
    expect(b.take()).toBe(false)
    expect(b.retryAfterSeconds()).toBe(1)
    vi.advanceTimersByTime(500)
    for (let i = 0; i < 5; i++) expect(b.take()).toBe(true)
    expect(b.take()).toBe(false)
  })

  it('refuses a batch larger than a second of tokens without taking any', () => {
    vi.useFakeTimers({ toFake: ['performance'] })
    const b = new TokenBucket(5)
    expect(b.take(6)).toBe(false)
    expect(b.take(5)).toBe(true)
  })

  it('keeps apps apart', () => {
    vi.useFakeTimers({ toFake: ['performance'] })
    const l = new AppRateLimiter()
    expect(l.take('a', 2, 2)).toEqual({ ok: true })
    expect(l.take('a', 1, 2)).toMatchObject({ ok: false, retryAfter: 1 })
    expect(l.take('b', 2, 2)).toEqual({ ok: true })
  })
})
