import { randomBytes } from 'node:crypto'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { ensureAdminToken, hashAdminToken, verifyAdminToken } from './admin-token.js'
import type { AppStore } from './app-store.js'
import { MasterKeyMismatchError } from './app-store-rows.js'
import { SecretBox } from './secret-box.js'
import { DEFAULT_SETTINGS, applySettings } from './settings.js'
import { FULL_CAPABILITY } from './types.js'

/** Opens a store on the test database (the same database on every call) with the given box. */
export type OpenStore = (secretBox: SecretBox) => AppStore

const ISO = /^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z$/
const SECRET = /^[A-Za-z0-9_-]{43,}$/

/**
 * The behaviour every {@link AppStore} driver must have. Call it from a driver's test file
 * after preparing an empty database; it opens, migrates and closes the stores it uses.
 *
 * @example
 * describeAppStoreContract('sqlite', (secretBox) => createSqliteAppStore({ file, secretBox }))
 */
export function describeAppStoreContract(driver: AppStore['driver'], open: OpenStore): void {
  describe(`AppStore contract (${driver})`, () => {
    const box = new SecretBox(randomBytes(32))
    let store: AppStore

    beforeAll(async () => {
      store = open(box)
      await store.migrate()
    })
    afterAll(async () => {
      await store?.close()
    })

    it('names its driver, answers ping, and migrates again without harm', async () => {
      expect(store.driver).toBe(driver)
      await store.ping()
      await store.migrate()
    })

    it('has no admin token hash on a fresh database, then stores and replaces it', async () => {
      expect(await store.getAdminTokenHash()).toBeNull()
      await store.setAdminTokenHash(hashAdminToken('first-token-value'))
      expect(await store.getAdminTokenHash()).toBe(hashAdminToken('first-token-value'))
      await store.setAdminTokenHash(hashAdminToken('second-token-value'))
      expect(await store.getAdminTokenHash()).toBe(hashAdminToken('second-token-value'))
    })

    it('round-trips a generated admin token and an env admin token through the store', async () => {
      const env = 'env-admin-token-' + randomBytes(8).toString('hex')
      expect(await ensureAdminToken(store, env)).toEqual({})
      expect(await verifyAdminToken(store, env)).toBe(true)
      expect(await verifyAdminToken(store, env + 'x')).toBe(false)
      // Once a hash is stored, no new token is generated.
      expect(await ensureAdminToken(store)).toEqual({})
      expect(await verifyAdminToken(store, env)).toBe(true)
    })

    it('creates an app with its first key, full capability by default', async () => {
      const before = Date.now()
      const { app, key } = await store.createApp({ name: 'First', settings: DEFAULT_SETTINGS }, {})
      expect(app.id).toMatch(/^app_[A-Za-z0-9_-]+$/)
      expect(app).toEqual({ id: app.id, name: 'First', settings: DEFAULT_SETTINGS, createdAt: app.createdAt })
      expect(app.createdAt).toMatch(ISO)
      expect(Date.parse(app.createdAt)).toBeGreaterThanOrEqual(before - 1000)
      expect(key.appId).toBe(app.id)
      expect(key.keyId).toMatch(/^key_[A-Za-z0-9_-]+$/)
      expect(key.secret).toMatch(SECRET)
      expect(key.capability).toEqual(FULL_CAPABILITY)
      expect(key.createdAt).toMatch(ISO)
      expect(key).not.toHaveProperty('label')
      expect(key).not.toHaveProperty('revokedAt')

      expect(await store.getApp(app.id)).toEqual(app)
      expect(await store.listKeys(app.id)).toEqual([key])
      expect(await store.getKey(app.id, key.keyId)).toEqual(key)
      expect((await store.listApps()).map((a) => a.id)).toContain(app.id)
    })

    it('keeps a first key label and capability, and every settings value', async () => {
      const settings = applySettings(DEFAULT_SETTINGS, {
        anonymousSubscribe: false,
        historySize: 5,
        allowedOrigins: ['https://example.com', 'http://localhost:3000'],
      })
      const capability = { 'chat:*': ['subscribe' as const, 'publish' as const] }
      const { app, key } = await store.createApp({ name: 'Custom', settings }, { label: 'server', capability })
      expect(key.label).toBe('server')
      expect(key.capability).toEqual(capability)
      expect((await store.getApp(app.id))?.settings).toEqual(settings)
      expect(await store.getKey(app.id, key.keyId)).toEqual(key)
    })

    it('lists apps in creation order', async () => {
      const a = await store.createApp({ name: 'order-a', settings: DEFAULT_SETTINGS }, {})
      await new Promise((r) => setTimeout(r, 5))
      const b = await store.createApp({ name: 'order-b', settings: DEFAULT_SETTINGS }, {})
      const ids = (await store.listApps()).map((x) => x.id)
      expect(ids.indexOf(a.app.id)).toBeGreaterThanOrEqual(0)
      expect(ids.indexOf(a.app.id)).toBeLessThan(ids.indexOf(b.app.id))
      expect(await store.listApps()).toContainEqual(b.app)
    })

    it('updates name and settings, separately or together', async () => {
      const { app } = await store.createApp({ name: 'Before', settings: DEFAULT_SETTINGS }, {})
      const renamed = await store.updateApp(app.id, { name: 'After' })
      expect(renamed).toEqual({ ...app, name: 'After' })
      const settings = applySettings(DEFAULT_SETTINGS, { maxConnections: 7 })
      const updated = await store.updateApp(app.id, { settings })
      expect(updated).toEqual({ ...app, name: 'After', settings })
      const both = await store.updateApp(app.id, { name: 'Both', settings: DEFAULT_SETTINGS })
      expect(both).toEqual({ ...app, name: 'Both' })
      expect(await store.updateApp(app.id, {})).toEqual(both)
      expect(await store.getApp(app.id)).toEqual(both)
    })

    it('creates more keys, and revokes one while it stays listed', async () => {
      const { app, key: first } = await store.createApp({ name: 'Keys', settings: DEFAULT_SETTINGS }, {})
      const second = await store.createKey(app.id, { label: 'rotation' })
      expect(second).not.toBeNull()
      expect(second!.secret).not.toBe(first.secret)
      expect(second!.label).toBe('rotation')
      expect(second!.capability).toEqual(FULL_CAPABILITY)
      expect((await store.listKeys(app.id)).map((k) => k.keyId).sort()).toEqual([first.keyId, second!.keyId].sort())

      const revoked = await store.revokeKey(app.id, first.keyId)
      expect(revoked).toEqual({ ...first, revokedAt: revoked!.revokedAt })
      expect(revoked!.revokedAt).toMatch(ISO)
      expect(await store.getKey(app.id, first.keyId)).toEqual(revoked)
      const listed = await store.listKeys(app.id)
      expect(listed).toHaveLength(2)
      expect(listed).toContainEqual(revoked)
      expect(listed).toContainEqual(second)

      await new Promise((r) => setTimeout(r, 5))
      const again = await store.revokeKey(app.id, first.keyId)
      expect(again?.revokedAt).toBe(revoked!.revokedAt)
    })

    it('answers null or false for unknown ids, and keeps tenants apart', async () => {
      const { app, key } = await store.createApp({ name: 'Tenant', settings: DEFAULT_SETTINGS }, {})
      const other = await store.createApp({ name: 'Other', settings: DEFAULT_SETTINGS }, {})
      expect(await store.getApp('app_missing')).toBeNull()
      expect(await store.updateApp('app_missing', { name: 'x' })).toBeNull()
      expect(await store.deleteApp('app_missing')).toBe(false)
      expect(await store.createKey('app_missing', {})).toBeNull()
      expect(await store.listKeys('app_missing')).toEqual([])
      expect(await store.getKey(app.id, 'key_missing')).toBeNull()
      expect(await store.revokeKey(app.id, 'key_missing')).toBeNull()
      // A key is only found under its own app.
      expect(await store.getKey(other.app.id, key.keyId)).toBeNull()
      expect(await store.revokeKey(other.app.id, key.keyId)).toBeNull()
      expect((await store.getKey(app.id, key.keyId))?.revokedAt).toBeUndefined()
    })

    it('deletes an app with its keys', async () => {
      const { app, key } = await store.createApp({ name: 'Doomed', settings: DEFAULT_SETTINGS }, {})
      await store.createKey(app.id, {})
      const survivor = await store.createApp({ name: 'Survivor', settings: DEFAULT_SETTINGS }, {})
      expect(await store.deleteApp(app.id)).toBe(true)
      expect(await store.getApp(app.id)).toBeNull()
      expect(await store.listKeys(app.id)).toEqual([])
      expect(await store.getKey(app.id, key.keyId)).toBeNull()
      expect((await store.listApps()).map((a) => a.id)).not.toContain(app.id)
      expect(await store.deleteApp(app.id)).toBe(false)
      expect(await store.listKeys(survivor.app.id)).toEqual([survivor.key])
    })

    it('creates an app and its first key atomically: no app is left when the key fails', async () => {
      class FailingBox extends SecretBox {
        override seal(): string {
          throw new Error('seal failed')
        }
      }
      const failing = open(new FailingBox(randomBytes(32)))
      try {
        const name = 'atomic-' + randomBytes(4).toString('hex')
        await expect(failing.createApp({ name, settings: DEFAULT_SETTINGS }, {})).rejects.toThrow('seal failed')
        expect((await store.listApps()).map((a) => a.name)).not.toContain(name)
      } finally {
        await failing.close()
      }
    })

    it('fails clearly, naming HERALD_MASTER_KEY, when secrets were sealed with another master key', async () => {
      const { app, key } = await store.createApp({ name: 'Sealed', settings: DEFAULT_SETTINGS }, {})
      const wrong = open(new SecretBox(randomBytes(32)))
      try {
        expect(await wrong.getApp(app.id)).toEqual(app)
        await expect(wrong.listKeys(app.id)).rejects.toBeInstanceOf(MasterKeyMismatchError)
        await expect(wrong.getKey(app.id, key.keyId)).rejects.toThrow(/HERALD_MASTER_KEY/)
        await expect(wrong.getKey(app.id, key.keyId)).rejects.toThrow(key.keyId)
      } finally {
        await wrong.close()
      }
      // The right key still opens it.
      expect(await store.getKey(app.id, key.keyId)).toEqual(key)
    })

    it('re-seals every key secret, revoked ones too, under a new master key, and changes nothing when one does not open', async () => {
      const { app, key } = await store.createApp({ name: 'Resealed', settings: DEFAULT_SETTINGS }, {})
      const revoked = (await store.revokeKey(app.id, (await store.createKey(app.id, {}))!.keyId))!
      const next = new SecretBox(randomBytes(32))
      const all = (await Promise.all((await store.listApps()).map((a) => store.listKeys(a.id)))).flat()
      expect(await store.resealSecrets(next)).toBe(all.length)
      const reopened = open(next)
      try {
        expect(await reopened.getKey(app.id, key.keyId)).toEqual(key)
        expect(await reopened.getKey(app.id, revoked.keyId)).toEqual(revoked)
        await expect(store.getKey(app.id, key.keyId)).rejects.toBeInstanceOf(MasterKeyMismatchError)
        // the old box opens none of them any more: nothing is re-sealed, nothing changes
        await expect(store.resealSecrets(new SecretBox(randomBytes(32)))).rejects.toThrow(/nothing was changed/)
        expect(await reopened.getKey(app.id, key.keyId)).toEqual(key)
        // back under the suite's box
        expect(await reopened.resealSecrets(box)).toBe(all.length)
      } finally {
        await reopened.close()
      }
      expect(await store.getKey(app.id, key.keyId)).toEqual(key)
    })

    it('rejects ping once closed', async () => {
      const other = open(box)
      await other.ping()
      await other.close()
      await expect(other.ping()).rejects.toThrow()
      await other.close() // closing twice is harmless
    })
  })
}
