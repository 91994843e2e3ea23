import { desc, eq, sql } from 'drizzle-orm'
import { drizzle } from 'drizzle-orm/node-postgres'
import pg from 'pg'
import { apps } from '../apps/schema-postgres.js'
import type { DeliveryAttempt, NewOutboxEntry, Outbox, OutboxEntry } from './outbox.js'
import { DELIVERY_LOG_SIZE, type OutboxRow, rowToDelivery, rowToEntry } from './outbox-rows.js'
import { webhookDeliveries, webhookOutbox } from './schema-postgres.js'

export interface PostgresOutboxOptions {
  /** The app store's `postgres://` URL (its migrations create the tables). */
  url: string
  /** Pool size (default 4). */
  maxConnections?: number
  onError?: (err: Error) => void
}

/**
 * The outbox shared by the nodes of a cluster: tables of the app store's PostgreSQL
 * database. Claims lock rows with `FOR UPDATE SKIP LOCKED`, so two nodes never lease the
 * same entry and neither waits for the other.
 *
 * @example
 * const outbox = createPostgresOutbox({ url: process.env.HERALD_DATABASE_URL! }) // after store.migrate()
 */
export function createPostgresOutbox(options: PostgresOutboxOptions): Outbox {
  const pool = new pg.Pool({ connectionString: options.url, max: options.maxConnections ?? 4 })
  pool.on('error', (err) => options.onError?.(err))
  const db = drizzle({ client: pool })
  let closed = false

  type Tx = Parameters<Parameters<typeof db.transaction>[0]>[0]
  const log = async (tx: Tx, entry: OutboxEntry, a: DeliveryAttempt) => {
    // `for key share` keeps the app from being deleted until the row is in; a gone app has no log.
    const [exists] = await tx.select({ id: apps.id }).from(apps).where(eq(apps.id, entry.appId)).for('key share')
    if (!exists) return
    await tx.insert(webhookDeliveries).values({
      appId: entry.appId,
      url: entry.url,
      eventNames: JSON.stringify(entry.eventNames),
      outcome: a.outcome,
      httpStatus: a.httpStatus ?? null,
      error: a.error ?? null,
      attempt: a.attempt,
      latencyMs: Math.round(a.latencyMs),
      at: a.at,
    })
    await tx.execute(sql`DELETE FROM webhook_deliveries WHERE app_id = ${entry.appId} AND id <= (
      SELECT id FROM webhook_deliveries WHERE app_id = ${entry.appId} ORDER BY id DESC LIMIT 1 OFFSET ${DELIVERY_LOG_SIZE})`)
  }

  return {
    async enqueue(entry: NewOutboxEntry, now: number) {
      await db
        .insert(webhookOutbox)
        .values({ appId: entry.appId, url: entry.url, body: entry.body, eventNames: JSON.stringify(entry.eventNames), createdAt: now, nextAttemptAt: now })
    },

    async claim(owner, now, leaseMs, limit) {
      // The oldest entry of each (app, URL), due and not leased. A row another node is claiming
      // is skipped; its successors are not eligible (it is still there and older).
      const { rows } = await pool.query<OutboxRow>(
        `WITH c AS (
           SELECT o.id FROM webhook_outbox o
           WHERE o.next_attempt_at <= $3 AND o.lease_until < $3
             AND NOT EXISTS (SELECT 1 FROM webhook_outbox p WHERE p.app_id = o.app_id AND p.url = o.url AND p.id < o.id)
           ORDER BY o.next_attempt_at, o.id
           LIMIT $4
           FOR UPDATE SKIP LOCKED)
         UPDATE webhook_outbox w SET lease_owner = $1, lease_until = $2
         FROM c WHERE w.id = c.id AND w.lease_until < $3
         RETURNING w.id, w.app_id, w.url, w.body, w.event_names, w.created_at, w.attempts`,
        [owner, now + leaseMs, now, limit],
      )
      return rows.map(rowToEntry).sort((a, b) => a.id - b.id)
    },

    async retry(entry, nextAttemptAt, attempt) {
      await db.transaction(async (tx) => {
        await tx.update(webhookOutbox).set({ attempts: attempt.attempt, nextAttemptAt, leaseOwner: null, leaseUntil: 0 }).where(eq(webhookOutbox.id, entry.id))
        await log(tx, entry, attempt)
      })
    },

    async finish(entry, attempt) {
      await db.transaction(async (tx) => {
        await tx.delete(webhookOutbox).where(eq(webhookOutbox.id, entry.id))
        await log(tx, entry, attempt)
      })
    },

    async nextDueAt() {
      const { rows } = await pool.query<{ at: string | null }>(
        `SELECT min(greatest(o.next_attempt_at, o.lease_until)) AS at FROM webhook_outbox o
         WHERE NOT EXISTS (SELECT 1 FROM webhook_outbox p WHERE p.app_id = o.app_id AND p.url = o.url AND p.id < o.id)`,
      )
      return rows[0]?.at == null ? null : Number(rows[0].at)
    },

    async releaseAll(owner) {
      const q = db.update(webhookOutbox).set({ leaseOwner: null, leaseUntil: 0 })
      await (owner === null ? q : q.where(eq(webhookOutbox.leaseOwner, owner)))
    },

    async depth() {
      const rows = await db.select({ appId: webhookOutbox.appId, n: sql<string>`count(*)` }).from(webhookOutbox).groupBy(webhookOutbox.appId)
      return Object.fromEntries(rows.map((r) => [r.appId, Number(r.n)]))
    },

    async deliveries(appId, limit) {
      const rows = await db.select().from(webhookDeliveries).where(eq(webhookDeliveries.appId, appId)).orderBy(desc(webhookDeliveries.id)).limit(limit)
      return rows.map(rowToDelivery)
    },

    async close() {
      if (closed) return
      closed = true
      await pool.end()
    },
  }
}
