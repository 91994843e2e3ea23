import { createHash, randomBytes, timingSafeEqual } from 'node:crypto'
import type { AppStore } from './app-store.js'

/** What admin-token functions need of the store. */
export type AdminTokenStore = Pick<AppStore, 'getAdminTokenHash' | 'setAdminTokenHash'>

/**
 * The stored form of an admin token: sha256, hex. A slow hash is not needed: tokens are
 * 32 random bytes (or an operator's HERALD_ADMIN_TOKEN of at least 16 characters).
 */
export function hashAdminToken(token: string): string {
  return createHash('sha256').update(token, 'utf8').digest('hex')
}

/** A fresh admin token: `hat_` + 32 random bytes, base64url. */
export function newAdminToken(): string {
  return 'hat_' + randomBytes(32).toString('base64url')
}

/**
 * Makes sure an admin token exists. With `envToken` (HERALD_ADMIN_TOKEN) its hash replaces
 * the stored one; else, when none is stored, a token is generated, only its hash is stored,
 * and the token is returned so the caller prints it once.
 *
 * @example
 * const { token } = await ensureAdminToken(store, config.adminToken)
 * if (token) log.warn(`admin token (shown once): ${token}`)
 */
export async function ensureAdminToken(store: AdminTokenStore, envToken?: string): Promise<{ token?: string }> {
  if (envToken !== undefined && envToken !== '') {
    const hash = hashAdminToken(envToken)
    if ((await store.getAdminTokenHash()) !== hash) await store.setAdminTokenHash(hash)
    return {}
  }
  if ((await store.getAdminTokenHash()) !== null) return {}
  const token = newAdminToken()
  await store.setAdminTokenHash(hashAdminToken(token))
  return { token }
}

/**
 * Checks a presented admin token in constant time against a stored hash, or against the
 * store's current hash when given the store. False when no hash is stored.
 *
 * @example
 * if (!(await verifyAdminToken(store, bearer))) throw unauthorized()
 */
export async function verifyAdminToken(source: AdminTokenStore | string | null, presented: string): Promise<boolean> {
  const stored = typeof source === 'string' || source === null ? source : await source.getAdminTokenHash()
  return stored !== null && adminTokenMatches(stored, presented)
}

/** The synchronous check against a cached hash. */
export function adminTokenMatches(storedHash: string, presented: string): boolean {
  const expected = Buffer.from(storedHash, 'hex')
  const actual = Buffer.from(hashAdminToken(presented), 'hex')
  return expected.length === actual.length && timingSafeEqual(expected, actual)
}
