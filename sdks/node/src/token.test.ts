import { decodeProtectedHeader, jwtVerify } from 'jose'
import { afterEach, describe, expect, it, vi } from 'vitest'
import { Herald } from './herald.js'
import { HeraldError } from './errors.js'

const secret = 'c2VjcmV0LXRoYXQtbG9va3MtYmFzZTY0dXJs_-' // used as a string, not decoded
const herald = new Herald({ url: 'http://127.0.0.1:1', appId: 'app_1', keyId: 'key_abc', secret })

/** A fake clock's "now", on a whole second. */
const NOW = Date.UTC(2026, 0, 1, 12)

afterEach(() => vi.useRealTimers())

describe('createToken', () => {
  it('signs the contract JWT with the UTF-8 bytes of the secret', async () => {
    vi.useFakeTimers({ now: NOW, toFake: ['Date'] })
    const token = await herald.createToken({ clientId: 'u1', capability: { 'chat:*': ['subscribe'] }, ttlSeconds: 600, info: { name: 'Ann' } })
    expect(decodeProtectedHeader(token)).toEqual({ alg: 'HS256', kid: 'key_abc' })
    const { payload } = await jwtVerify(token, new TextEncoder().encode(secret), { algorithms: ['HS256'] })
    expect(payload.sub).toBe('u1')
    expect(payload.cap).toEqual({ 'chat:*': ['subscribe'] })
    expect(payload.info).toEqual({ name: 'Ann' })
    expect(payload.iat).toBe(NOW / 1000)
    expect(payload.exp).toBe(NOW / 1000 + 600)
  })

  it('does not verify with the base64url-decoded secret', async () => {
    const token = await herald.createToken()
    const decoded = Uint8Array.from(atob(secret.replace(/-/g, '+').replace(/_/g, '/')), (c) => c.charCodeAt(0))
    await expect(jwtVerify(token, decoded)).rejects.toThrow()
  })

  it('leaves out claims that were not given and defaults the TTL to one hour', async () => {
    const { payload } = await jwtVerify(await herald.createToken(), new TextEncoder().encode(secret))
    expect(Object.keys(payload).sort()).toEqual(['exp', 'iat'])
    expect(payload.exp! - payload.iat!).toBe(3600)
  })

  it('rejects info over 1 KiB, bad TTLs and long client ids', async () => {
    await expect(herald.createToken({ info: { x: 'a'.repeat(1020) } })).rejects.toBeInstanceOf(HeraldError)
    await expect(herald.createToken({ info: { x: 'a'.repeat(1000) } })).resolves.toMatch(/^ey/)
    await expect(herald.createToken({ ttlSeconds: 0 })).rejects.toMatchObject({ code: 'bad_request' })
    await expect(herald.createToken({ clientId: 'u'.repeat(129) })).rejects.toMatchObject({ code: 'bad_request' })
  })
})
