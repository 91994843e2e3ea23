import { index, integer, primaryKey, sqliteTable, text } from 'drizzle-orm/sqlite-core'

/**
 * Durable history of the embedded broker (`broker-sqlite.ts`), in the same SQLite file as the
 * app store. Times are Unix milliseconds. No foreign key to `apps`: the app store may be
 * PostgreSQL; `removeApp` deletes an app's rows. Migrations are generated with the control-plane
 * schema into `migrations/sqlite` (`npm run db:generate -w @herald/push`).
 */

/** One row per channel that has a position: its epoch, last seq and the TTL it was last published with. */
export const channelPositions = sqliteTable(
  'channel_positions',
  {
    appId: text('app_id').notNull(),
    channel: text('channel').notNull(),
    epoch: text('epoch').notNull(),
    seq: integer('seq').notNull(),
    /** The channel's history TTL (ms) at its last write: its history is gone once `active_at + ttl_ms` has passed. */
    ttlMs: integer('ttl_ms').notNull(),
    /** Last publish (or creation) of the channel. */
    activeAt: integer('active_at').notNull(),
  },
  (t) => [primaryKey({ columns: [t.appId, t.channel] })],
)

/** Retained messages of the current epoch of each channel, as the JSON sent to clients. */
export const channelHistory = sqliteTable(
  'channel_history',
  {
    appId: text('app_id').notNull(),
    channel: text('channel').notNull(),
    seq: integer('seq').notNull(),
    /** `ts + historyTtlSeconds` at publish: the sweep deletes the row after it. */
    expiresAt: integer('expires_at').notNull(),
    json: text('json').notNull(),
  },
  (t) => [primaryKey({ columns: [t.appId, t.channel, t.seq] }), index('channel_history_expires_at_idx').on(t.expiresAt)],
)

/** Publisher ids seen in the idempotency window, with the first message (its JSON) they were given. */
export const channelIdempotency = sqliteTable(
  'channel_idempotency',
  {
    appId: text('app_id').notNull(),
    channel: text('channel').notNull(),
    id: text('id').notNull(),
    expiresAt: integer('expires_at').notNull(),
    json: text('json').notNull(),
  },
  (t) => [primaryKey({ columns: [t.appId, t.channel, t.id] }), index('channel_idempotency_expires_at_idx').on(t.expiresAt)],
)
