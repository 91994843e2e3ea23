import { describe, expect, it } from 'vitest'
import { fakeJwt } from './testing/fakes.js'
import { decodeToken, refreshDelay } from './token.js'

describe('token', () => {
  it('reads the payload without verifying, and tolerates garbage', () => {
    expect(decodeToken(fakeJwt({ exp: 100, sub: 'u1' }))).toEqual({ exp: 100, sub: 'u1' })
    expect(decodeToken('not a jwt')).toEqual({})
    expect(decodeToken('a.b.c')).toEqual({})
  })

  it('refreshes at 80% of the lifetime, at most a minute early, never sooner than 1 s', () => {
    const now = 1_000_000_000_000
    const iat = now / 1000
    expect(refreshDelay(fakeJwt({ iat, exp: iat + 5 }), now)).toBe(4_000)
    expect(refreshDelay(fakeJwt({ iat, exp: iat + 86400 }), now)).toBe(86400_000 - 60_000)
    expect(refreshDelay(fakeJwt({ iat, exp: iat + 1 }), now)).toBe(1000)
    // no iat: the lifetime is counted from now
    expect(refreshDelay(fakeJwt({ exp: iat + 10 }), now)).toBe(8000)
    expect(refreshDelay(fakeJwt({ sub: 'x' }), now)).toBeNull()
  })
})
