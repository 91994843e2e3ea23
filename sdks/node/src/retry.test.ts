import { describe, expect, it } from 'vitest'
import { errorFromResponse, HeraldError, parseRetryAfter } from './errors.js'
import { DEFAULT_RETRY_POLICY, fullJitter, isRetryable, retryDelay } from './retry.js'

describe('fullJitter', () => {
  it('stays within [0, min(max, base*2^attempt))', () => {
    expect(fullJitter(0, 250, 5000, () => 0)).toBe(0)
    expect(fullJitter(0, 250, 5000, () => 0.999)).toBe(249)
    expect(fullJitter(3, 250, 5000, () => 0.999)).toBe(1998)
    expect(fullJitter(10, 250, 5000, () => 0.999)).toBe(4995)
  })
})

describe('retryDelay', () => {
  const policy = DEFAULT_RETRY_POLICY
  it('retries transport errors, 5xx and rate limits, up to the policy', () => {
    expect(retryDelay(new HeraldError('network', 'x'), 0, policy, () => 0.5)).toBe(125)
    expect(retryDelay(new HeraldError('timeout', 'x'), 1, policy, () => 0.5)).toBe(250)
    expect(retryDelay(new HeraldError('internal', 'x', { status: 502 }), 2, policy, () => 0)).toBe(0)
    expect(retryDelay(new HeraldError('internal', 'x', { status: 502 }), 3, policy)).toBeNull()
  })
  it('honours Retry-After seconds, but not beyond the cap', () => {
    expect(retryDelay(new HeraldError('rate_limited', 'x', { status: 429, retryAfter: 2 }), 0, policy, () => 0)).toBe(2000)
    expect(retryDelay(new HeraldError('rate_limited', 'x', { status: 429, retryAfter: 2 }), 0, policy, () => 0.999)).toBeLessThanOrEqual(2200)
    expect(retryDelay(new HeraldError('rate_limited', 'x', { status: 429, retryAfter: 3600 }), 0, policy)).toBeNull()
  })
  it('does not retry client errors', () => {
    for (const [code, status] of [
      ['bad_request', 400],
      ['unauthorized', 401],
      ['forbidden', 403],
      ['too_large', 413],
      ['limit_exceeded', 429],
    ] as const) {
      expect(isRetryable(new HeraldError(code, 'x', { status }))).toBe(false)
    }
  })
})

describe('errors', () => {
  it('parses Retry-After as seconds or a date', () => {
    expect(parseRetryAfter('3')).toBe(3)
    expect(parseRetryAfter(null)).toBeUndefined()
    expect(parseRetryAfter('soon')).toBeUndefined()
    const now = Date.parse('2026-01-01T00:00:00Z')
    expect(parseRetryAfter('Thu, 01 Jan 2026 00:00:05 GMT', now)).toBe(5)
  })
  it('reads the contract error body and falls back to the status', () => {
    expect(errorFromResponse(413, '{"error":{"code":"too_large","message":"big"}}', null)).toMatchObject({ code: 'too_large', status: 413, message: 'big' })
    expect(errorFromResponse(500, '<html>', null)).toMatchObject({ code: 'internal', status: 500 })
    expect(errorFromResponse(429, '{"error":{"code":"rate_limited","message":"m"}}', '1')).toMatchObject({ retryAfter: 1 })
    expect(errorFromResponse(418, '{"error":{"code":"teapot","message":"m"}}', null).code).toBe('bad_request')
  })
})
