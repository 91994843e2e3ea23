import { createHash, createHmac, timingSafeEqual } from 'node:crypto'

/**
 * Pusher's signatures, as the `pusher` server libraries and pusher-js make them:
 * - HTTP API requests: `auth_signature = hex(HMAC-SHA256(secret, "METHOD\npath\nquery"))`, where
 *   `query` is every query parameter but `auth_signature`, keys lowercased, sorted, joined as
 *   `key=value` with `&` (values as they were decoded, not re-encoded);
 * - channel auth: `auth = "<key>:" + hex(HMAC-SHA256(secret, "socket_id:channel"))`, for presence
 *   `"socket_id:channel:channel_data"`;
 * - user sign-in: `auth = "<key>:" + hex(HMAC-SHA256(secret, "socket_id::user::user_data"))`.
 * Every comparison is constant-time.
 */

/** How far `auth_timestamp` may be from the server's clock. */
export const MAX_TIMESTAMP_SKEW_SECONDS = 600

const HEX_SHA256 = /^[0-9a-f]{64}$/
const HEX_MD5 = /^[0-9a-f]{32}$/

export function hmacHex(secret: string, text: string): string {
  return createHmac('sha256', secret).update(text, 'utf8').digest('hex')
}

export function md5Hex(body: string | Uint8Array): string {
  return createHash('md5').update(body).digest('hex')
}

/** Constant-time equality of two strings (false at once when the lengths differ: lengths are not secret). */
export function safeEqual(a: string, b: string): boolean {
  const ab = Buffer.from(a)
  const bb = Buffer.from(b)
  return ab.length === bb.length && timingSafeEqual(ab, bb)
}

// ---- HTTP API ------------------------------------------------------------------------

/** A request of the Pusher HTTP API, as it arrived. */
export interface ApiRequest {
  method: string
  /** The path as requested, e.g. `/apps/app_1/events` (what the library signed). */
  path: string
  /** The decoded query parameters, in order, repeats included. */
  query: Array<[string, string]>
  /** The raw body bytes; empty for a GET. */
  body: Uint8Array
}

export type ApiAuthResult =
  | { ok: true; keyId: string }
  /** `status` is what Pusher answers: 401 for every authentication failure. */
  | { ok: false; status: 401; message: string }

/** The string the library signs for a request: `METHOD\npath\nsorted query`. */
export function apiSigningString(method: string, path: string, params: Array<[string, string]>): string {
  const query = params
    .filter(([k]) => k !== 'auth_signature')
    .sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0))
    .map(([k, v]) => `${k}=${v}`)
    .join('&')
  return `${method.toUpperCase()}\n${path}\n${query}`
}

/** Signs a request as the `pusher` library does (tests, and Herald calling itself). */
export function signApiRequest(secret: string, method: string, path: string, params: Array<[string, string]>): string {
  return hmacHex(secret, apiSigningString(method, path, params.map(([k, v]) => [k.toLowerCase(), v])))
}

const fail = (message: string): ApiAuthResult => ({ ok: false, status: 401, message })

/**
 * Verifies a signed HTTP API request. `secretOf` returns the secret of a live key of the app
 * (null for an unknown or revoked key). `nowMs` is the server clock (a parameter for tests).
 */
export async function verifyApiRequest(req: ApiRequest, secretOf: (keyId: string) => Promise<string | null>, nowMs: number): Promise<ApiAuthResult> {
  const params = new Map<string, string>()
  const lowered: Array<[string, string]> = []
  for (const [rawKey, value] of req.query) {
    const key = rawKey.toLowerCase()
    if (params.has(key)) return fail(`Query parameter ${key} is given more than once`)
    params.set(key, value)
    lowered.push([key, value])
  }
  const keyId = params.get('auth_key')
  const timestamp = params.get('auth_timestamp')
  const version = params.get('auth_version')
  const signature = params.get('auth_signature')
  if (!keyId) return fail('Missing auth_key')
  if (!timestamp) return fail('Missing auth_timestamp')
  if (!version) return fail('Missing auth_version')
  if (!signature) return fail('Missing auth_signature')
  if (version !== '1.0') return fail(`Unsupported auth_version ${version}: only 1.0 is supported`)
  if (!/^\d{1,12}$/.test(timestamp)) return fail('auth_timestamp must be seconds since the epoch')
  const nowSeconds = Math.floor(nowMs / 1000)
  if (Math.abs(nowSeconds - Number(timestamp)) > MAX_TIMESTAMP_SKEW_SECONDS) {
    return fail(`Timestamp expired: Given timestamp (${timestamp}) not within ${MAX_TIMESTAMP_SKEW_SECONDS}s of server time (${nowSeconds})`)
  }
  const bodyMd5 = params.get('body_md5')
  if (req.body.length > 0 && bodyMd5 === undefined) return fail('Missing body_md5: a request with a body must sign its MD5')
  if (bodyMd5 !== undefined && (!HEX_MD5.test(bodyMd5) || !safeEqual(bodyMd5, md5Hex(req.body)))) {
    return fail('body_md5 does not match the body')
  }
  const secret = await secretOf(keyId)
  if (secret === null) return fail(`Unknown auth_key ${keyId.slice(0, 64)}`)
  const expected = hmacHex(secret, apiSigningString(req.method, req.path, lowered))
  if (!HEX_SHA256.test(signature) || !safeEqual(signature, expected)) {
    return fail(`Invalid signature: expected HMAC SHA256 hex digest of ${JSON.stringify(apiSigningString(req.method, req.path, lowered))}`)
  }
  return { ok: true, keyId }
}

// ---- channel and user auth -------------------------------------------------------------

/** `"<key>:<hex signature>"` split; null when it is not that shape. */
export function parseSocketAuth(auth: unknown): { keyId: string; signature: string } | null {
  if (typeof auth !== 'string' || auth.length > 512) return null
  const colon = auth.lastIndexOf(':')
  if (colon <= 0) return null
  const signature = auth.slice(colon + 1)
  if (!HEX_SHA256.test(signature)) return null
  return { keyId: auth.slice(0, colon), signature }
}

/** The string a channel auth signs: `socket_id:channel`, or `socket_id:channel:channel_data` (presence). */
export function channelSigningString(socketId: string, channel: string, channelData?: string): string {
  return channelData === undefined ? `${socketId}:${channel}` : `${socketId}:${channel}:${channelData}`
}

/** The string a user sign-in signs: `socket_id::user::user_data`. */
export function userSigningString(socketId: string, userData: string): string {
  return `${socketId}::user::${userData}`
}

/** `auth` for a channel subscription, as `pusher.authorizeChannel` makes it. */
export function signChannel(keyId: string, secret: string, socketId: string, channel: string, channelData?: string): string {
  return `${keyId}:${hmacHex(secret, channelSigningString(socketId, channel, channelData))}`
}

/** `auth` for `pusher:signin`, as `pusher.authenticateUser` makes it. */
export function signUser(keyId: string, secret: string, socketId: string, userData: string): string {
  return `${keyId}:${hmacHex(secret, userSigningString(socketId, userData))}`
}

/** Whether `signature` (the hex part of `auth`) signs the channel subscription with `secret`. */
export function verifyChannelSignature(secret: string, signature: string, socketId: string, channel: string, channelData?: string): boolean {
  return safeEqual(signature, hmacHex(secret, channelSigningString(socketId, channel, channelData)))
}

/** Whether `signature` (the hex part of `auth`) signs the user sign-in with `secret`. */
export function verifyUserSignature(secret: string, signature: string, socketId: string, userData: string): boolean {
  return safeEqual(signature, hmacHex(secret, userSigningString(socketId, userData)))
}
