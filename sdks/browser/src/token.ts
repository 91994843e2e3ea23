/** The claims of a client JWT the SDK looks at. */
export interface TokenClaims {
  exp?: number
  iat?: number
  sub?: string
}

/**
 * Reads a JWT's payload without verifying it (only the server can verify).
 * Returns `{}` for anything that is not a JWT.
 *
 * @example
 * decodeToken(token).exp // seconds since the epoch
 */
export function decodeToken(token: string): TokenClaims {
  try {
    const part = token.split('.')[1]!.replace(/-/g, '+').replace(/_/g, '/')
    const claims = JSON.parse(atob(part)) as unknown
    return claims && typeof claims === 'object' ? (claims as TokenClaims) : {}
  } catch {
    return {}
  }
}

/**
 * How long to wait, in ms, before fetching a fresh token: at 80 % of the token's
 * lifetime, at most one minute before `exp`, at least one second from now. The lifetime
 * is `exp - iat` when `iat` is set, so a skewed browser clock does not matter.
 * Returns `null` when the token has no `exp`.
 *
 * @example
 * refreshDelay(token, Date.now()) // 4_000 (ms) for a 5-second token
 */
export function refreshDelay(token: string, now: number): number | null {
  const { exp, iat } = decodeToken(token)
  if (typeof exp !== 'number') return null
  const lifetime = (exp - (typeof iat === 'number' ? iat : now / 1000)) * 1000
  const delay = lifetime - Math.min(60_000, lifetime * 0.2)
  return Math.min(Math.max(1000, delay), 2 ** 31 - 1)
}
