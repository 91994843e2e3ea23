import { and, asc, eq, sql } from 'drizzle-orm'
import { drizzle, type NodePgDatabase } from 'drizzle-orm/node-postgres'
import { migrate } from 'drizzle-orm/node-postgres/migrator'
import pg from 'pg'
import type { AppStore, NewKey } from './app-store.js'
import { ADMIN_CREDENTIAL_ID, MASTER_KEY_CHECK_ID, migrationsFolder, rowToApp, resealSecret, rowToKey } from './app-store-rows.js'
import { newAppId, newKeyId, newSecret } from './ids.js'
import { adminCredentials, appKeys, apps, masterKeyCheck } from './schema-postgres.js'
import type { SecretBox } from './secret-box.js'
import { FULL_CAPABILITY, type AppKey } from './types.js'

/** The advisory lock key that serialises migrations between nodes starting together. */
export const MIGRATION_LOCK_KEY = 0x68657261 // 'hera'

export interface PostgresAppStoreOptions {
  /** A `postgres://` connection string. */
  url: string
  /** Seals key secrets at rest. */
  secretBox: SecretBox
  /** Where the drizzle-kit migrations are; defaults to `<repo>/migrations/postgres`. */
  migrationsFolder?: string
  /** Pool size (default 10). */
  maxConnections?: number
  /** Errors of idle pooled connections (the pool replaces them); ignored by default. */
  onError?: (err: Error) => void
}

/**
 * The app store shared by several nodes: PostgreSQL through a `pg` Pool and drizzle.
 * Call `migrate()` once before use; it holds an advisory lock, so nodes may start at once.
 *
 * @example
 * const store = createPostgresAppStore({ url: process.env.HERALD_DATABASE_URL!, secretBox })
 * await store.migrate()
 */
export function createPostgresAppStore(options: PostgresAppStoreOptions): AppStore {
  const { secretBox } = options
  const pool = new pg.Pool({ connectionString: options.url, max: options.maxConnections ?? 10 })
  pool.on('error', (err) => options.onError?.(err))
  const db = drizzle({ client: pool })
  const folder = options.migrationsFolder ?? migrationsFolder('postgres')
  let closed = false

  async function insertKey(tx: Pick<NodePgDatabase, 'insert'>, appId: string, input: NewKey): Promise<AppKey> {
    const secret = newSecret()
    const [row] = await tx
      .insert(appKeys)
      .values({
        keyId: newKeyId(),
        appId,
        secretEnc: secretBox.seal(secret),
        label: input.label ?? null,
        capability: input.capability ?? FULL_CAPABILITY,
        createdAt: new Date(),
      })
      .returning()
    return { ...rowToKey(row!, secretBox), secret }
  }

  const store: AppStore = {
    driver: 'postgres',

    async migrate() {
      // A session-level advisory lock on one dedicated connection, held around drizzle's migrator.
      const client = await pool.connect()
      try {
        await client.query('select pg_advisory_lock($1)', [MIGRATION_LOCK_KEY])
        try {
          await migrate(drizzle({ client }), { migrationsFolder: folder })
        } finally {
          await client.query('select pg_advisory_unlock($1)', [MIGRATION_LOCK_KEY])
        }
      } finally {
        client.release()
      }
    },

    async createApp(input, key) {
      return db.transaction(async (tx) => {
        const [appRow] = await tx.insert(apps).values({ id: newAppId(), name: input.name, settings: input.settings, createdAt: new Date() }).returning()
        return { app: rowToApp(appRow!), key: await insertKey(tx, appRow!.id, key) }
      })
    },

    async listApps() {
      return (await db.select().from(apps).orderBy(asc(apps.createdAt), asc(apps.id))).map(rowToApp)
    },

    async getApp(appId) {
      const [row] = await db.select().from(apps).where(eq(apps.id, appId))
      return row ? rowToApp(row) : null
    },

    async updateApp(appId, patch) {
      const set: Partial<typeof apps.$inferInsert> = {}
      if (patch.name !== undefined) set.name = patch.name
      if (patch.settings !== undefined) set.settings = patch.settings
      if (Object.keys(set).length === 0) return store.getApp(appId)
      const [row] = await db.update(apps).set(set).where(eq(apps.id, appId)).returning()
      return row ? rowToApp(row) : null
    },

    async deleteApp(appId) {
      const rows = await db.delete(apps).where(eq(apps.id, appId)).returning({ id: apps.id })
      return rows.length > 0
    },

    async createKey(appId, input) {
      return db.transaction(async (tx) => {
        // `for key share` keeps the app from being deleted until the key is in.
        const [exists] = await tx.select({ id: apps.id }).from(apps).where(eq(apps.id, appId)).for('key share')
        return exists ? insertKey(tx, appId, input) : null
      })
    },

    async listKeys(appId) {
      const rows = await db.select().from(appKeys).where(eq(appKeys.appId, appId)).orderBy(asc(appKeys.createdAt), asc(appKeys.keyId))
      return rows.map((row) => rowToKey(row, secretBox))
    },

    async getKey(appId, keyId) {
      const [row] = await db
        .select()
        .from(appKeys)
        .where(and(eq(appKeys.appId, appId), eq(appKeys.keyId, keyId)))
      return row ? rowToKey(row, secretBox) : null
    },

    async appIdOfKey(keyId) {
      const [row] = await db.select({ appId: appKeys.appId }).from(appKeys).where(eq(appKeys.keyId, keyId))
      return row?.appId ?? null
    },

    async revokeKey(appId, keyId) {
      // A second revoke keeps the first revokedAt.
      const [row] = await db
        .update(appKeys)
        .set({ revokedAt: sql`coalesce(${appKeys.revokedAt}, ${new Date().toISOString()}::timestamptz)` })
        .where(and(eq(appKeys.appId, appId), eq(appKeys.keyId, keyId)))
        .returning()
      return row ? rowToKey(row, secretBox) : null
    },

    async resealSecrets(next) {
      return db.transaction(async (tx) => {
        const rows = await tx.select({ keyId: appKeys.keyId, secretEnc: appKeys.secretEnc }).from(appKeys).for('update')
        const sealed = rows.map((row) => ({ keyId: row.keyId, secretEnc: resealSecret(row.keyId, row.secretEnc, secretBox, next) }))
        for (const row of sealed) await tx.update(appKeys).set({ secretEnc: row.secretEnc }).where(eq(appKeys.keyId, row.keyId))
        // The master key check goes with the secrets, or the next start would refuse the new key.
        const [check] = await tx.select().from(masterKeyCheck).where(eq(masterKeyCheck.id, MASTER_KEY_CHECK_ID)).for('update')
        if (check)
          await tx
            .update(masterKeyCheck)
            .set({ sealed: resealSecret('master key check', check.sealed, secretBox, next) })
            .where(eq(masterKeyCheck.id, MASTER_KEY_CHECK_ID))
        return rows.length
      })
    },

    async getAdminTokenHash() {
      const [row] = await db.select().from(adminCredentials).where(eq(adminCredentials.id, ADMIN_CREDENTIAL_ID))
      return row?.tokenHash ?? null
    },

    async setAdminTokenHash(hash) {
      const createdAt = new Date()
      await db
        .insert(adminCredentials)
        .values({ id: ADMIN_CREDENTIAL_ID, tokenHash: hash, createdAt })
        .onConflictDoUpdate({ target: adminCredentials.id, set: { tokenHash: hash, createdAt } })
    },

    async claimMasterKeyCheck(sealed) {
      await db.insert(masterKeyCheck).values({ id: MASTER_KEY_CHECK_ID, sealed, createdAt: new Date() }).onConflictDoNothing()
      const [row] = await db.select().from(masterKeyCheck).where(eq(masterKeyCheck.id, MASTER_KEY_CHECK_ID))
      return row!.sealed
    },

    async ping() {
      await pool.query('select 1')
    },

    async close() {
      if (closed) return
      closed = true
      await pool.end()
    },
  }
  return store
}
