import { index, sqliteTable, text } from 'drizzle-orm/sqlite-core'
import type { AppSettings } from './settings.js'
import type { Capability } from './types.js'

/**
 * The SQLite control-plane schema. Timestamps are ISO-8601 UTC strings; JSON columns are text.
 * Migrations are generated from this file into `migrations/sqlite` (`npm run db:generate -w @herald/push`).
 */
export const apps = sqliteTable('apps', {
  id: text('id').primaryKey(),
  name: text('name').notNull(),
  settings: text('settings', { mode: 'json' }).$type<AppSettings>().notNull(),
  createdAt: text('created_at').notNull(),
})

/** App keys. `secret_enc` holds the secret sealed by {@link SecretBox}, never the plain secret. */
export const appKeys = sqliteTable(
  'app_keys',
  {
    keyId: text('key_id').primaryKey(),
    appId: text('app_id')
      .notNull()
      .references(() => apps.id, { onDelete: 'cascade' }),
    secretEnc: text('secret_enc').notNull(),
    label: text('label'),
    capability: text('capability', { mode: 'json' }).$type<Capability>().notNull(),
    createdAt: text('created_at').notNull(),
    revokedAt: text('revoked_at'),
  },
  (t) => [index('app_keys_app_id_idx').on(t.appId)],
)

/** Admin credentials; one row, `id = 'admin'`, holding the admin token's hash. */
export const adminCredentials = sqliteTable('admin_credentials', {
  id: text('id').primaryKey(),
  tokenHash: text('token_hash').notNull(),
  createdAt: text('created_at').notNull(),
})

/**
 * One row, `id = 'master'`: a fixed text sealed with the master key by the first node that
 * started on the database. A node whose master key does not open it refuses to start.
 */
export const masterKeyCheck = sqliteTable('master_key_check', {
  id: text('id').primaryKey(),
  sealed: text('sealed').notNull(),
  createdAt: text('created_at').notNull(),
})
