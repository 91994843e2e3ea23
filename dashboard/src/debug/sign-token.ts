import type { AppKey } from '../api/types.js'

/** The capability of the dashboard's debug tokens: everything on every channel. */
export const DEBUG_CAPABILITY = { '*': ['subscribe', 'publish', 'presence', 'history'] } as const

export interface SignOptions {
  /** Token lifetime; short, since the page can sign a new one at any time. Default 600 s. */
  ttlSeconds?: number
  /** Seconds since the epoch; defaults to now. */
  now?: number
  sub?: string
}

const encoder = new TextEncoder()

function base64url(bytes: Uint8Array): string {
  let bin = ''
  for (const b of bytes) bin += String.fromCharCode(b)
  return btoa(bin).replace(/\+/g, '-').replace(/\//g, '_').replace(/=+$/, '')
}

const json64 = (value: unknown) => base64url(encoder.encode(JSON.stringify(value)))

/**
 * Signs a short-lived HS256 client JWT with WebCrypto, as the contract's "Auth" section says:
 * header `{"alg":"HS256","kid":keyId}`, key = the UTF-8 bytes of the secret string.
 * @example const jwt = await signDebugToken({ keyId: 'key_1', secret: 's3cr3t…' })
 */
export async function signDebugToken(key: Pick<AppKey, 'keyId' | 'secret'>, options: SignOptions = {}): Promise<string> {
  const iat = options.now ?? Math.floor(Date.now() / 1000)
  const header = json64({ alg: 'HS256', kid: key.keyId })
  const claims = json64({ sub: options.sub ?? 'dashboard', iat, exp: iat + (options.ttlSeconds ?? 600), cap: DEBUG_CAPABILITY })
  const input = `${header}.${claims}`
  const hmac = await crypto.subtle.importKey('raw', encoder.encode(key.secret), { name: 'HMAC', hash: 'SHA-256' }, false, ['sign'])
  const signature = new Uint8Array(await crypto.subtle.sign('HMAC', hmac, encoder.encode(input)))
  return `${input}.${base64url(signature)}`
}

/** The key the debug console signs with: the first one not revoked, or null. */
export function firstActiveKey<K extends Pick<AppKey, 'revokedAt'>>(keys: readonly K[]): K | null {
  return keys.find((k) => !k.revokedAt) ?? null
}
