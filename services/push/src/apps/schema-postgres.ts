import { index, jsonb, pgTable, text, timestamp } from 'drizzle-orm/pg-core'
import type { AppSettings } from './settings.js'
import type { Capability } from './types.js'

const at = (name: string) => timestamp(name, { withTimezone: true, mode: 'date' })

/**
 * The PostgreSQL control-plane schema (same tables as `schema-sqlite.ts`; timestamps are
 * `timestamptz`, JSON is `jsonb`). Migrations go to `migrations/postgres` (`npm run db:generate -w @herald/push`).
 */
export const apps = pgTable('apps', {
  id: text('id').primaryKey(),
  name: text('name').notNull(),
  settings: jsonb('settings').$type<AppSettings>().notNull(),
  createdAt: at('created_at').notNull(),
})

/** App keys. `secret_enc` holds the secret sealed by {@link SecretBox}, never the plain secret. */
export const appKeys = pgTable(
  'app_keys',
  {
    keyId: text('key_id').primaryKey(),
    appId: text('app_id')
      .notNull()
      .references(() => apps.id, { onDelete: 'cascade' }),
    secretEnc: text('secret_enc').notNull(),
    label: text('label'),
    capability: jsonb('capability').$type<Capability>().notNull(),
    createdAt: at('created_at').notNull(),
    revokedAt: at('revoked_at'),
  },
  (t) => [index('app_keys_app_id_idx').on(t.appId)],
)

/** Admin credentials; one row, `id = 'admin'`, holding the admin token's hash. */
export const adminCredentials = pgTable('admin_credentials', {
  id: text('id').primaryKey(),
  tokenHash: text('token_hash').notNull(),
  createdAt: at('created_at').notNull(),
})

/**
 * One row, `id = 'master'`: a fixed text sealed with the master key by the first node that
 * started on the database. A node whose master key does not open it refuses to start.
 */
export const masterKeyCheck = pgTable('master_key_check', {
  id: text('id').primaryKey(),
  sealed: text('sealed').notNull(),
  createdAt: at('created_at').notNull(),
})
