import { index, integer, sqliteTable, text } from 'drizzle-orm/sqlite-core'
import { apps } from '../apps/schema-sqlite.js'

/**
 * Webhook tables of the SQLite app store (migration `0003_webhooks`). Times are epoch ms.
 *
 * `webhook_outbox`: one row per POST still to make (a batch of events for one app and URL),
 * deleted once delivered or dropped. A row is leased by the node sending it (`lease_owner`,
 * `lease_until`): a node that dies leaves a lease that simply expires.
 */
export const webhookOutbox = sqliteTable(
  'webhook_outbox',
  {
    id: integer('id').primaryKey({ autoIncrement: true }),
    appId: text('app_id')
      .notNull()
      .references(() => apps.id, { onDelete: 'cascade' }),
    url: text('url').notNull(),
    /** The exact body POSTed (`{"time_ms","events"}`), so every retry is signed over the same bytes. */
    body: text('body').notNull(),
    /** Event names of the batch (JSON array), for the delivery log. */
    eventNames: text('event_names').notNull(),
    createdAt: integer('created_at').notNull(),
    nextAttemptAt: integer('next_attempt_at').notNull(),
    attempts: integer('attempts').notNull().default(0),
    leaseOwner: text('lease_owner'),
    leaseUntil: integer('lease_until').notNull().default(0),
  },
  (t) => [index('webhook_outbox_queue_idx').on(t.appId, t.url, t.id), index('webhook_outbox_due_idx').on(t.nextAttemptAt)],
)

/** The delivery log the dashboard shows: one row per attempt, the latest ones kept per app. */
export const webhookDeliveries = sqliteTable(
  'webhook_deliveries',
  {
    id: integer('id').primaryKey({ autoIncrement: true }),
    appId: text('app_id')
      .notNull()
      .references(() => apps.id, { onDelete: 'cascade' }),
    url: text('url').notNull(),
    eventNames: text('event_names').notNull(),
    /** `delivered`, `retrying` or `dropped`. */
    outcome: text('outcome').notNull(),
    /** The receiver's HTTP status, absent when it did not answer. */
    httpStatus: integer('http_status'),
    error: text('error'),
    attempt: integer('attempt').notNull(),
    latencyMs: integer('latency_ms').notNull(),
    at: integer('at').notNull(),
  },
  (t) => [index('webhook_deliveries_app_idx').on(t.appId, t.id)],
)
