import { decodeProtectedHeader, jwtVerify } from 'jose'
import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest'
import { firstActiveKey, signDebugToken } from './sign-token.js'

const key = { keyId: 'key_abc123', secret: 'c2VjcmV0LXRoYXQtaXMtbG9uZy1lbm91Z2gtMzJieXRlcw_-' }

/** The fake clock's "now" (jose checks `exp` against it), on a whole second. */
const NOW = Date.UTC(2026, 0, 1, 12)

beforeEach(() => vi.useFakeTimers({ now: NOW, toFake: ['Date'] }))
afterEach(() => vi.useRealTimers())

describe('signDebugToken', () => {
  it('makes an HS256 JWT that jose verifies with the secret as UTF-8 bytes', async () => {
    const now = NOW / 1000
    const jwt = await signDebugToken(key, { ttlSeconds: 120, now })
    expect(decodeProtectedHeader(jwt)).toEqual({ alg: 'HS256', kid: 'key_abc123' })
    const { payload } = await jwtVerify(jwt, new TextEncoder().encode(key.secret), { algorithms: ['HS256'] })
    expect(payload).toEqual({
      sub: 'dashboard',
      iat: now,
      exp: now + 120,
      cap: { '*': ['subscribe', 'publish', 'presence', 'history'] },
    })
  })

  it('does not verify with another secret', async () => {
    const jwt = await signDebugToken(key)
    await expect(jwtVerify(jwt, new TextEncoder().encode(key.secret + 'x'))).rejects.toThrow(/signature/)
  })

  it('is rejected once expired', async () => {
    const jwt = await signDebugToken(key, { now: NOW / 1000 - 3600, ttlSeconds: 60 })
    await expect(jwtVerify(jwt, new TextEncoder().encode(key.secret))).rejects.toThrow(/exp/)
  })

  it('signs secrets with non-ASCII characters as UTF-8', async () => {
    const k = { keyId: 'key_u', secret: 'pässwört-✓-long-enough-to-be-a-secret' }
    const jwt = await signDebugToken(k)
    await expect(jwtVerify(jwt, new TextEncoder().encode(k.secret))).resolves.toBeTruthy()
  })
})

describe('firstActiveKey', () => {
  it('skips revoked keys', () => {
    const keys = [{ keyId: 'a', revokedAt: '2026-01-01T00:00:00Z' }, { keyId: 'b' }, { keyId: 'c' }]
    expect(firstActiveKey(keys)?.keyId).toBe('b')
    expect(firstActiveKey([{ keyId: 'a', revokedAt: 'x' }])).toBeNull()
  })
})
