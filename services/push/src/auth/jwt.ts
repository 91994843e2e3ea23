import { decodeProtectedHeader, errors as joseErrors, jwtVerify } from 'jose'
import type { AppRegistry } from '../apps/registry.js'
import type { App } from '../apps/types.js'
import { HeraldError, unauthorized } from '../errors.js'
import { capabilityError, compileCapability, intersect } from './capability.js'
import type { Identity } from './identity.js'

export const MAX_TOKEN_BYTES = 8192

/** Milliseconds until a connection authenticated by a token that expires at `exp` must end (`exp` + leeway), for setTimeout. */
export function msUntilExpiry(exp: number): number {
  return Math.min(Math.max((exp + CLOCK_TOLERANCE_SECONDS) * 1000 - Date.now(), 0), 2_147_000_000)
}
export const CLOCK_TOLERANCE_SECONDS = 30
const MAX_INFO_BYTES = 1024
const MAX_CLIENT_ID = 128

/**
 * Verifies a client JWT for one app exactly as the contract says: HS256 only, `kid` names a
 * live key of this app, signature with that key's secret (UTF-8 bytes), `exp` required
 * (30 s leeway) and within the app's `maxTokenTtlSeconds`.
 * Throws `unauthorized` or `token_expired`.
 */
export async function verifyClientToken(registry: AppRegistry, app: App, token: string): Promise<TokenIdentity> {
  if (token.length > MAX_TOKEN_BYTES) throw unauthorized(`token larger than ${MAX_TOKEN_BYTES} bytes`)
  const cacheKey = app.id + '\u0000' + token
  const hit = verified.get(cacheKey)
  if (hit) {
    // Signature and claims were checked before; the key must still be the same live key.
    const key = await registry.activeKey(app.id, hit.identity.keyId)
    if (key && key.secretBytes === hit.secretBytes && hit.identity.exp + CLOCK_TOLERANCE_SECONDS > Date.now() / 1000) return hit.identity
    verified.delete(cacheKey)
  }
  const result = await verifyUncached(registry, app, token)
  if (verified.size >= MAX_CACHED_TOKENS) verified.delete(verified.keys().next().value!)
  verified.set(cacheKey, result)
  return result.identity
}

type TokenIdentity = Extract<Identity, { kind: 'token' }>

/**
 * Tokens already verified, so a publisher or reconnecting client sending the same JWT again
 * does not pay for HMAC and claim checks each time. Bounded; oldest entries go first. An entry
 * is only used while its key is the same live key (revocation and rotation end it at once) and
 * its `exp` has not passed.
 */
const verified = new Map<string, { identity: TokenIdentity; secretBytes: Uint8Array }>()
const MAX_CACHED_TOKENS = 10_000

async function verifyUncached(registry: AppRegistry, app: App, token: string): Promise<{ identity: TokenIdentity; secretBytes: Uint8Array }> {
  let header: ReturnType<typeof decodeProtectedHeader>
  try {
    header = decodeProtectedHeader(token)
  } catch {
    throw unauthorized('malformed token')
  }
  if (header.alg !== 'HS256') throw unauthorized('token alg must be HS256')
  if (typeof header.kid !== 'string') throw unauthorized('token header has no kid')
  const key = await registry.activeKey(app.id, header.kid)
  if (!key) throw unauthorized('unknown or revoked key')

  let payload: Record<string, unknown>
  try {
    const verified = await jwtVerify(token, key.secretBytes, {
      algorithms: ['HS256'],
      clockTolerance: CLOCK_TOLERANCE_SECONDS,
      requiredClaims: ['exp'],
    })
    payload = verified.payload
  } catch (err) {
    if (err instanceof joseErrors.JWTExpired) throw new HeraldError('token_expired', 'token expired')
    if (err instanceof joseErrors.JWTClaimValidationFailed) throw unauthorized(`token claim invalid: ${err.claim}`)
    throw unauthorized('invalid token signature or claims')
  }

  const exp = payload.exp as number
  const now = Math.floor(Date.now() / 1000)
  const issued = typeof payload.iat === 'number' ? payload.iat : now
  if (exp - Math.min(issued, now) > app.settings.maxTokenTtlSeconds + CLOCK_TOLERANCE_SECONDS) {
    throw unauthorized(`token lifetime exceeds the app's maxTokenTtlSeconds (${app.settings.maxTokenTtlSeconds})`)
  }

  const sub = payload.sub
  if (sub !== undefined && (typeof sub !== 'string' || sub.length === 0 || sub.length > MAX_CLIENT_ID)) {
    throw unauthorized(`sub must be a string of 1..${MAX_CLIENT_ID} characters`)
  }
  let capability = key.capability
  if (payload.cap !== undefined) {
    const problem = capabilityError(payload.cap)
    if (problem) throw unauthorized(`token cap: ${problem}`)
    capability = intersect(key.capability, compileCapability(payload.cap as Record<string, never>))
  }
  let info: Record<string, unknown> | undefined
  if (payload.info !== undefined) {
    if (typeof payload.info !== 'object' || payload.info === null || Array.isArray(payload.info)) throw unauthorized('info must be a JSON object')
    if (Buffer.byteLength(JSON.stringify(payload.info)) > MAX_INFO_BYTES) throw unauthorized('info larger than 1 KiB')
    info = payload.info as Record<string, unknown>
  }
  const identity: TokenIdentity = { kind: 'token', appId: app.id, keyId: key.key.keyId, clientId: sub, capability, exp, info }
  return { identity, secretBytes: key.secretBytes }
}
