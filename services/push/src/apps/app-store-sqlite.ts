import { and, asc, eq, sql } from 'drizzle-orm'
import { drizzle } from 'drizzle-orm/better-sqlite3'
import { migrate } from 'drizzle-orm/better-sqlite3/migrator'
import type { AppStore, NewKey } from './app-store.js'
import { ADMIN_CREDENTIAL_ID, MASTER_KEY_CHECK_ID, migrationsFolder, resealSecret, rowToApp, rowToKey } from './app-store-rows.js'
import { newAppId, newKeyId, newSecret } from './ids.js'
import { adminCredentials, appKeys, apps, masterKeyCheck } from './schema-sqlite.js'
import { describeSqliteError, openSqliteFile, type SqliteSynchronous } from '../sqlite-file.js'
import type { SecretBox } from './secret-box.js'
import { FULL_CAPABILITY, type AppKey } from './types.js'

export interface SqliteAppStoreOptions {
  /** Path of the database file (its folder is created if needed), or `:memory:`. */
  file: string
  /** Seals key secrets at rest. */
  secretBox: SecretBox
  /** Where the drizzle-kit migrations are; defaults to `<repo>/migrations/sqlite`. */
  migrationsFolder?: string
  /** How long a write waits for a lock held by another connection (default 5000 ms). */
  busyTimeoutMs?: number
  /** SQLite `synchronous` (default `normal`). */
  synchronous?: SqliteSynchronous
}

/**
 * The embedded app store: one SQLite file (WAL, `synchronous = NORMAL`, foreign keys on).
 * Call `migrate()` once before use. A file that is locked, read-only or corrupt is refused with
 * a {@link DatabaseFileError} naming it.
 *
 * @example
 * const store = createSqliteAppStore({ file: `${dataDir}/herald.db`, secretBox: new SecretBox(masterKey) })
 * await store.migrate()
 * const { app, key } = await store.createApp({ name: 'demo', settings: DEFAULT_SETTINGS }, {})
 */
export function createSqliteAppStore(options: SqliteAppStoreOptions): AppStore {
  const { file, secretBox } = options
  const sqlite = openSqliteFile(file, { synchronous: options.synchronous, busyTimeoutMs: options.busyTimeoutMs })
  const db = drizzle({ client: sqlite })
  const folder = options.migrationsFolder ?? migrationsFolder('sqlite')
  const now = () => new Date().toISOString()

  function insertKey(tx: Pick<typeof db, 'insert'>, appId: string, input: NewKey): AppKey {
    const secret = newSecret()
    const row = tx
      .insert(appKeys)
      .values({
        keyId: newKeyId(),
        appId,
        secretEnc: secretBox.seal(secret),
        label: input.label ?? null,
        capability: input.capability ?? FULL_CAPABILITY,
        createdAt: now(),
      })
      .returning()
      .get()
    return { ...rowToKey(row, secretBox), secret }
  }

  const store: AppStore = {
    driver: 'sqlite',

    async migrate() {
      try {
        migrate(db, { migrationsFolder: folder })
      } catch (err) {
        throw describeSqliteError(file, err)
      }
    },

    async createApp(input, key) {
      return db.transaction((tx) => {
        const appRow = tx.insert(apps).values({ id: newAppId(), name: input.name, settings: input.settings, createdAt: now() }).returning().get()
        return { app: rowToApp(appRow), key: insertKey(tx, appRow.id, key) }
      })
    },

    async listApps() {
      return db.select().from(apps).orderBy(asc(apps.createdAt), asc(apps.id)).all().map(rowToApp)
    },

    async getApp(appId) {
      const row = db.select().from(apps).where(eq(apps.id, appId)).get()
      return row ? rowToApp(row) : null
    },

    async updateApp(appId, patch) {
      const set: Partial<typeof apps.$inferInsert> = {}
      if (patch.name !== undefined) set.name = patch.name
      if (patch.settings !== undefined) set.settings = patch.settings
      if (Object.keys(set).length === 0) return store.getApp(appId)
      const row = db.update(apps).set(set).where(eq(apps.id, appId)).returning().get()
      return row ? rowToApp(row) : null
    },

    async deleteApp(appId) {
      return db.delete(apps).where(eq(apps.id, appId)).run().changes > 0
    },

    async createKey(appId, input) {
      return db.transaction((tx) => {
        const exists = tx.select({ id: apps.id }).from(apps).where(eq(apps.id, appId)).get()
        return exists ? insertKey(tx, appId, input) : null
      })
    },

    async listKeys(appId) {
      return db
        .select()
        .from(appKeys)
        .where(eq(appKeys.appId, appId))
        .orderBy(asc(appKeys.createdAt), asc(appKeys.keyId))
        .all()
        .map((row) => rowToKey(row, secretBox))
    },

    async getKey(appId, keyId) {
      const row = db
        .select()
        .from(appKeys)
        .where(and(eq(appKeys.appId, appId), eq(appKeys.keyId, keyId)))
        .get()
      return row ? rowToKey(row, secretBox) : null
    },

    async appIdOfKey(keyId) {
      const row = db.select({ appId: appKeys.appId }).from(appKeys).where(eq(appKeys.keyId, keyId)).get()
      return row?.appId ?? null
    },

    async revokeKey(appId, keyId) {
      // A second revoke keeps the first revokedAt.
      const row = db
        .update(appKeys)
        .set({ revokedAt: sql`coalesce(${appKeys.revokedAt}, ${now()})` })
        .where(and(eq(appKeys.appId, appId), eq(appKeys.keyId, keyId)))
        .returning()
        .get()
      return row ? rowToKey(row, secretBox) : null
    },

    async resealSecrets(next) {
      const run = sqlite.transaction(() => {
        const rows = db.select({ keyId: appKeys.keyId, secretEnc: appKeys.secretEnc }).from(appKeys).all()
        const sealed = rows.map((row) => ({ keyId: row.keyId, secretEnc: resealSecret(row.keyId, row.secretEnc, secretBox, next) }))
        for (const row of sealed) db.update(appKeys).set({ secretEnc: row.secretEnc }).where(eq(appKeys.keyId, row.keyId)).run()
        // The master key check goes with the secrets, or the next start would refuse the new key.
        const check = db.select().from(masterKeyCheck).where(eq(masterKeyCheck.id, MASTER_KEY_CHECK_ID)).get()
        if (check)
          db.update(masterKeyCheck)
            .set({ sealed: resealSecret('master key check', check.sealed, secretBox, next) })
            .where(eq(masterKeyCheck.id, MASTER_KEY_CHECK_ID))
            .run()
        return rows.length
      })
      return run.immediate()
    },

    async getAdminTokenHash() {
      const row = db.select().from(adminCredentials).where(eq(adminCredentials.id, ADMIN_CREDENTIAL_ID)).get()
      return row?.tokenHash ?? null
    },

    async setAdminTokenHash(hash) {
      const createdAt = now()
      db.insert(adminCredentials)
        .values({ id: ADMIN_CREDENTIAL_ID, tokenHash: hash, createdAt })
        .onConflictDoUpdate({ target: adminCredentials.id, set: { tokenHash: hash, createdAt } })
        .run()
    },

    async claimMasterKeyCheck(sealed) {
      db.insert(masterKeyCheck).values({ id: MASTER_KEY_CHECK_ID, sealed, createdAt: now() }).onConflictDoNothing().run()
      return db.select().from(masterKeyCheck).where(eq(masterKeyCheck.id, MASTER_KEY_CHECK_ID)).get()!.sealed
    },

    async ping() {
      sqlite.prepare('select 1').get()
    },

    async close() {
      if (sqlite.open) sqlite.close()
    },
  }
  return store
}
