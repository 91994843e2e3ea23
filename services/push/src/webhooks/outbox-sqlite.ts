import Database from 'better-sqlite3'
import { desc, eq, sql } from 'drizzle-orm'
import { drizzle } from 'drizzle-orm/better-sqlite3'
import type { DeliveryAttempt, NewOutboxEntry, Outbox, OutboxEntry } from './outbox.js'
import { DELIVERY_LOG_SIZE, type OutboxRow, rowToDelivery, rowToEntry } from './outbox-rows.js'
import { apps } from '../apps/schema-sqlite.js'
import { webhookDeliveries, webhookOutbox } from './schema-sqlite.js'

export interface SqliteOutboxOptions {
  /** The app store's database file (its migrations create the tables). */
  file: string
  /** How long a write waits for a lock held by another connection (default 5000 ms). */
  busyTimeoutMs?: number
}

/**
 * The outbox of the embedded default: tables of the app store's SQLite file, on a connection
 * of its own (WAL lets it write beside the app store's). One statement claims entries, so
 * claims are atomic even with several processes on one file.
 *
 * @example
 * const outbox = createSqliteOutbox({ file: `${dataDir}/herald.db` }) // after store.migrate()
 */
export function createSqliteOutbox(options: SqliteOutboxOptions): Outbox {
  const sqlite = new Database(options.file)
  sqlite.pragma('journal_mode = WAL')
  sqlite.pragma('synchronous = NORMAL')
  sqlite.pragma('foreign_keys = ON')
  sqlite.pragma(`busy_timeout = ${Math.max(0, Math.floor(options.busyTimeoutMs ?? 5000))}`)
  const db = drizzle({ client: sqlite })

  // One statement: the oldest entry of each (app, URL), due and not leased, leased to the caller.
  const claim = sqlite.prepare<[{ owner: string; until: number; now: number; limit: number }], OutboxRow>(`
    UPDATE webhook_outbox SET lease_owner = @owner, lease_until = @until
    WHERE id IN (
      SELECT o.id FROM webhook_outbox o
      WHERE o.next_attempt_at <= @now AND o.lease_until < @now
        AND NOT EXISTS (SELECT 1 FROM webhook_outbox p WHERE p.app_id = o.app_id AND p.url = o.url AND p.id < o.id)
      ORDER BY o.next_attempt_at, o.id
      LIMIT @limit)
    RETURNING id, app_id, url, body, event_names, created_at, attempts`)

  const nextDue = sqlite.prepare<[], { at: number | null }>(`
    SELECT min(max(o.next_attempt_at, o.lease_until)) AS at FROM webhook_outbox o
    WHERE NOT EXISTS (SELECT 1 FROM webhook_outbox p WHERE p.app_id = o.app_id AND p.url = o.url AND p.id < o.id)`)

  // The app may be gone (deleted while the POST was in flight): its log went with it.
  const log = (entry: OutboxEntry, a: DeliveryAttempt) => {
    if (!db.select({ id: apps.id }).from(apps).where(eq(apps.id, entry.appId)).get()) return
    db.insert(webhookDeliveries)
      .values({
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
      .run()
    db.run(sql`DELETE FROM webhook_deliveries WHERE app_id = ${entry.appId} AND id <= (
      SELECT id FROM webhook_deliveries WHERE app_id = ${entry.appId} ORDER BY id DESC LIMIT 1 OFFSET ${DELIVERY_LOG_SIZE})`)
  }

  return {
    async enqueue(entry: NewOutboxEntry, now: number) {
      db.insert(webhookOutbox)
        .values({ appId: entry.appId, url: entry.url, body: entry.body, eventNames: JSON.stringify(entry.eventNames), createdAt: now, nextAttemptAt: now })
        .run()
    },

    async claim(owner, now, leaseMs, limit) {
      const rows = claim.all({ owner, until: now + leaseMs, now, limit })
      return rows.map(rowToEntry).sort((a, b) => a.id - b.id)
    },

    async retry(entry, nextAttemptAt, attempt) {
      sqlite.transaction(() => {
        db.update(webhookOutbox).set({ attempts: attempt.attempt, nextAttemptAt, leaseOwner: null, leaseUntil: 0 }).where(eq(webhookOutbox.id, entry.id)).run()
        log(entry, attempt)
      })()
    },

    async finish(entry, attempt) {
      sqlite.transaction(() => {
        db.delete(webhookOutbox).where(eq(webhookOutbox.id, entry.id)).run()
        log(entry, attempt)
      })()
    },

    async nextDueAt() {
      return nextDue.get()?.at ?? null
    },

    async releaseAll(owner) {
      const q = db.update(webhookOutbox).set({ leaseOwner: null, leaseUntil: 0 })
      ;(owner === null ? q : q.where(eq(webhookOutbox.leaseOwner, owner))).run()
    },

    async depth() {
      const rows = db.select({ appId: webhookOutbox.appId, n: sql<number>`count(*)` }).from(webhookOutbox).groupBy(webhookOutbox.appId).all()
      return Object.fromEntries(rows.map((r) => [r.appId, Number(r.n)]))
    },

    async deliveries(appId, limit) {
      const rows = db.select().from(webhookDeliveries).where(eq(webhookDeliveries.appId, appId)).orderBy(desc(webhookDeliveries.id)).limit(limit).all()
      return rows.map(rowToDelivery)
    },

    async close() {
      if (sqlite.open) sqlite.close()
    },
  }
}
