import { SignJWT } from 'jose'
import { HeraldError } from './errors.js'

/** An operation a token may grant on a channel pattern. */
export type Operation = 'subscribe' | 'publish' | 'presence' | 'history'

/** `{"<channel pattern>": [operations]}`; `*` in a pattern matches any run of characters. */
export type Capability = Record<string, Operation[]>

export interface TokenOptions {
  /** The `sub` claim: required for presence, shown as publisher of client messages. */
  clientId?: string
  /** The `cap` claim. Without it the claim is left out and the service applies its default. */
  capability?: Capability
  /** Lifetime in seconds (default 3600). The app rejects tokens longer than its `maxTokenTtlSeconds`. */
  ttlSeconds?: number
  /** Shown to presence members; a JSON object of at most 1 KiB. */
  info?: Record<string, unknown>
}

export const DEFAULT_TOKEN_TTL_SECONDS = 3600
export const MAX_INFO_BYTES = 1024
export const MAX_CLIENT_ID = 128

function invalid(message: string): HeraldError {
  return new HeraldError('bad_request', message)
}

/**
 * Signs a client JWT as the contract says: header `{"alg":"HS256","kid":keyId}`, claims
 * `exp`, `iat`, `sub`, `cap`, `info`, key = the UTF-8 bytes of the secret string.
 *
 * @example
 * await signToken('key_1', secret, { clientId: 'u1', capability: { 'chat:*': ['subscribe'] } })
 */
export async function signToken(keyId: string, secret: string, options: TokenOptions = {}, now = Date.now()): Promise<string> {
  const ttl = options.ttlSeconds ?? DEFAULT_TOKEN_TTL_SECONDS
  if (!Number.isInteger(ttl) || ttl <= 0) throw invalid('ttlSeconds must be a positive integer')
  if (options.clientId !== undefined && (typeof options.clientId !== 'string' || options.clientId.length === 0 || options.clientId.length > MAX_CLIENT_ID)) {
    throw invalid(`clientId must be a string of 1..${MAX_CLIENT_ID} characters`)
  }
  const claims: Record<string, unknown> = {}
  if (options.capability !== undefined) {
    const cap = options.capability
    if (typeof cap !== 'object' || cap === null || Array.isArray(cap) || Object.values(cap).some((ops) => !Array.isArray(ops))) {
      throw invalid('capability must be an object of channel pattern -> operations')
    }
    claims.cap = cap
  }
  if (options.info !== undefined) {
    const info = options.info
    if (typeof info !== 'object' || info === null || Array.isArray(info)) throw invalid('info must be a JSON object')
    const bytes = new TextEncoder().encode(JSON.stringify(info)).length
    if (bytes > MAX_INFO_BYTES) throw invalid(`info is ${bytes} bytes of JSON, at most ${MAX_INFO_BYTES}`)
    claims.info = info
  }
  const iat = Math.floor(now / 1000)
  let jwt = new SignJWT(claims)
    .setProtectedHeader({ alg: 'HS256', kid: keyId })
    .setIssuedAt(iat)
    .setExpirationTime(iat + ttl)
  if (options.clientId !== undefined) jwt = jwt.setSubject(options.clientId)
  return jwt.sign(new TextEncoder().encode(secret))
}
