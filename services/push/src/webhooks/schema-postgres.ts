import { bigint, bigserial, index, integer, pgTable, text } from 'drizzle-orm/pg-core'
import { apps } from '../apps/schema-postgres.js'

const ms = (name: string) => bigint(name, { mode: 'number' })

/**
 * Webhook tables of the PostgreSQL app store (migration `0002_webhooks`); the same as
 * `schema-sqlite.ts`. Times are epoch ms (`bigint`), compared with the node's clock.
 */
export const webhookOutbox = pgTable(
  'webhook_outbox',
  {
    id: bigserial('id', { mode: 'number' }).primaryKey(),
    appId: text('app_id')
      .notNull()
      .references(() => apps.id, { onDelete: 'cascade' }),
    url: text('url').notNull(),
    body: text('body').notNull(),
    eventNames: text('event_names').notNull(),
    createdAt: ms('created_at').notNull(),
    nextAttemptAt: ms('next_attempt_at').notNull(),
    attempts: integer('attempts').notNull().default(0),
    leaseOwner: text('lease_owner'),
    leaseUntil: ms('lease_until').notNull().default(0),
  },
  (t) => [index('webhook_outbox_queue_idx').on(t.appId, t.url, t.id), index('webhook_outbox_due_idx').on(t.nextAttemptAt)],
)

export const webhookDeliveries = pgTable(
  'webhook_deliveries',
  {
    id: bigserial('id', { mode: 'number' }).primaryKey(),
    appId: text('app_id')
      .notNull()
      .references(() => apps.id, { onDelete: 'cascade' }),
    url: text('url').notNull(),
    eventNames: text('event_names').notNull(),
    outcome: text('outcome').notNull(),
    httpStatus: integer('http_status'),
    error: text('error'),
    attempt: integer('attempt').notNull(),
    latencyMs: integer('latency_ms').notNull(),
    at: ms('at').notNull(),
  },
  (t) => [index('webhook_deliveries_app_idx').on(t.appId, t.id)],
)
