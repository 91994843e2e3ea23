import { timingSafeEqual } from 'node:crypto'
import type { AppRegistry, CachedKey } from '../apps/registry.js'
import type { App } from '../apps/types.js'
import { unauthorized } from '../errors.js'
import type { Identity } from './identity.js'
import { verifyClientToken } from './jwt.js'

function safeEqual(a: string, b: string): boolean {
  const ab = Buffer.from(a)
  const bb = Buffer.from(b)
  return ab.length === bb.length && timingSafeEqual(ab, bb)
}

type BasicIdentity = Extract<Identity, { kind: 'basic' }>

/**
 * Basic credentials already checked (app id + header value -> identity and the key it matched),
 * so a publisher sending the same header on every request does not decode and compare it each
 * time. Bounded, oldest first; wrong credentials are never kept.
 */
const basicVerified = new Map<string, { identity: BasicIdentity; key: CachedKey }>()
const MAX_CACHED_CREDENTIALS = 10_000

/**
 * Reads the `Authorization` header of a REST call: `Basic base64(keyId:secret)` (the key's
 * full capability) or `Bearer <JWT>`. No header at all is anonymous.
 */
export async function identifyRequest(registry: AppRegistry, app: App, authorization: string | undefined): Promise<Identity> {
  if (!authorization) return { kind: 'anonymous', appId: app.id }
  const space = authorization.indexOf(' ')
  const scheme = space > 0 ? authorization.slice(0, space).toLowerCase() : ''
  const value = space > 0 ? authorization.slice(space + 1).trim() : ''
  if (scheme === 'bearer') return verifyClientToken(registry, app, value)
  if (scheme === 'basic') {
    if (value.length > 1024) throw unauthorized('credentials too long')
    const cacheKey = `${app.id}\u0000${value}`
    const hit = basicVerified.get(cacheKey)
    if (hit) {
      // Checked before; only while its key is the same live key (revocation and rotation end it at once).
      if ((await registry.activeKey(app.id, hit.identity.keyId)) === hit.key) return hit.identity
      basicVerified.delete(cacheKey)
    }
    const decoded = Buffer.from(value, 'base64').toString('utf8')
    const colon = decoded.indexOf(':')
    if (colon <= 0) throw unauthorized('Basic credentials must be keyId:secret')
    const key = await registry.activeKey(app.id, decoded.slice(0, colon))
    if (!key || !safeEqual(key.key.secret, decoded.slice(colon + 1))) throw unauthorized('unknown key or wrong secret')
    const identity: BasicIdentity = { kind: 'basic', appId: app.id, keyId: key.key.keyId, capability: key.capability }
    if (basicVerified.size >= MAX_CACHED_CREDENTIALS) {
      const oldest = basicVerified.keys().next()
      if (!oldest.done) basicVerified.delete(oldest.value)
    }
    basicVerified.set(cacheKey, { identity, key })
    return identity
  }
  throw unauthorized('Authorization must be Basic or Bearer')
}

/** Reads a client's `token` query parameter (WebSocket, SSE, poll); none is anonymous. */
export async function identifyClient(registry: AppRegistry, app: App, token: string | undefined | null): Promise<Identity> {
  if (!token) return { kind: 'anonymous', appId: app.id }
  return verifyClientToken(registry, app, token)
}
