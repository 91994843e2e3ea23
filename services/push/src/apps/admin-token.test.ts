import { mkdtempSync, rmSync } from 'node:fs'
import { randomBytes } from 'node:crypto'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { afterAll, describe, expect, it } from 'vitest'
import { adminTokenMatches, ensureAdminToken, hashAdminToken, newAdminToken, verifyAdminToken } from './admin-token.js'
import type { AppStore } from './app-store.js'
import { createSqliteAppStore } from './app-store-sqlite.js'
import { SecretBox } from './secret-box.js'

const dir = mkdtempSync(join(tmpdir(), 'herald-admin-token-'))
let n = 0
const stores: AppStore[] = []
async function freshStore(): Promise<AppStore> {
  const store = createSqliteAppStore({ file: join(dir, `admin-${n++}.db`), secretBox: new SecretBox(randomBytes(32)) })
  stores.push(store)
  await store.migrate()
  return store
}
afterAll(async () => {
  for (const s of stores) await s.close()
  rmSync(dir, { recursive: true, force: true })
})

describe('admin token', () => {
  it('makes hat_ tokens of 32 random bytes and hashes them as sha256 hex', () => {
    const a = newAdminToken()
    expect(a).toMatch(/^hat_[A-Za-z0-9_-]{43}$/)
    expect(newAdminToken()).not.toBe(a)
    expect(hashAdminToken('abc')).toBe('ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad')
  })

  it('generates a token on first start, stores only its hash, and does not generate again', async () => {
    const store = await freshStore()
    const { token } = await ensureAdminToken(store)
    expect(token).toMatch(/^hat_/)
    const stored = await store.getAdminTokenHash()
    expect(stored).toBe(hashAdminToken(token!))
    expect(stored).not.toContain(token!)
    expect(await ensureAdminToken(store)).toEqual({})
    expect(await store.getAdminTokenHash()).toBe(stored)
    expect(await verifyAdminToken(store, token!)).toBe(true)
    expect(await verifyAdminToken(stored, token!)).toBe(true)
    expect(await verifyAdminToken(store, token! + 'x')).toBe(false)
    expect(await verifyAdminToken(store, '')).toBe(false)
  })

  it('replaces the stored hash with HERALD_ADMIN_TOKEN, so the generated token stops working', async () => {
    const store = await freshStore()
    const { token: generated } = await ensureAdminToken(store)
    const env = 'operator-chosen-admin-token'
    expect(await ensureAdminToken(store, env)).toEqual({})
    expect(await verifyAdminToken(store, env)).toBe(true)
    expect(await verifyAdminToken(store, generated!)).toBe(false)
    // Unsetting the env later keeps the last token rather than generating a new one.
    expect(await ensureAdminToken(store)).toEqual({})
    expect(await verifyAdminToken(store, env)).toBe(true)
  })

  it('refuses everything when no hash is stored', async () => {
    const store = await freshStore()
    expect(await verifyAdminToken(store, 'anything')).toBe(false)
    expect(await verifyAdminToken(null, 'anything')).toBe(false)
  })

  it('compares against a cached hash synchronously and rejects malformed hashes', () => {
    const hash = hashAdminToken('t0k3n-value-long-enough')
    expect(adminTokenMatches(hash, 't0k3n-value-long-enough')).toBe(true)
    expect(adminTokenMatches(hash, 't0k3n-value-long-enougH')).toBe(false)
    expect(adminTokenMatches('not-hex', 't0k3n-value-long-enough')).toBe(false)
  })
})
