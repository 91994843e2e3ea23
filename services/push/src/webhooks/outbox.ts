/** One POST waiting in the outbox: a batch of events for one app and URL. */
export interface OutboxEntry {
  id: number
  appId: string
  url: string
  /** The exact JSON body to POST; retries send (and sign) the same bytes. */
  body: string
  /** The batch's event names, for the delivery log. */
  eventNames: string[]
  /** When it was enqueued (epoch ms): retries stop `retryForMs` after this. */
  createdAt: number
  /** Failed attempts so far. */
  attempts: number
}

export interface NewOutboxEntry {
  appId: string
  url: string
  body: string
  eventNames: string[]
}

/** What one attempt gave, for the delivery log. */
export interface DeliveryAttempt {
  /** `delivered` (2xx), `retrying` (will be tried again) or `dropped` (retries exhausted). */
  outcome: 'delivered' | 'retrying' | 'dropped'
  httpStatus?: number
  error?: string
  /** 1 for the first attempt. */
  attempt: number
  latencyMs: number
  at: number
}

/** One row of an app's delivery log (newest first). */
export interface DeliveryRecord extends DeliveryAttempt {
  id: number
  url: string
  eventNames: string[]
}

/** How many delivery log rows are kept per app. */
export const DELIVERY_LOG_SIZE = 100

/**
 * The webhook outbox: pending POSTs in the app store's database, so they survive a restart
 * or a crash and any node of a cluster can send them.
 * Drivers: `outbox-sqlite.ts`, `outbox-postgres.ts` (both in the app store's database),
 * `outbox-memory.ts` (unit tests).
 *
 * Guarantees every driver keeps:
 * - Each (app, URL) is a FIFO queue: only its oldest entry can be claimed, so batches reach
 *   a receiver in the order they were enqueued (and events in order per channel).
 * - `claim` is atomic: an entry is leased to one node until `leaseUntil`; a node that dies
 *   leaves a lease that expires, and then another node (or the same one restarted) claims it.
 * - An entry leaves the outbox only through `finish` (delivered or dropped).
 * - Every call names its tenant: entries of a deleted app are gone with it.
 */
export interface Outbox {
  enqueue(entry: NewOutboxEntry, now: number): Promise<void>
  /**
   * Leases up to `limit` entries that are due (`next attempt <= now`), not leased (lease
   * expired) and the oldest of their (app, URL), to `owner` until `now + leaseMs`.
   */
  claim(owner: string, now: number, leaseMs: number, limit: number): Promise<OutboxEntry[]>
  /** A failed attempt: the entry is released and due again at `nextAttemptAt`. */
  retry(entry: OutboxEntry, nextAttemptAt: number, attempt: DeliveryAttempt): Promise<void>
  /** Delivered or dropped: the entry is removed and the attempt logged. */
  finish(entry: OutboxEntry, attempt: DeliveryAttempt): Promise<void>
  /** The earliest time an entry becomes due (null when the outbox is empty). */
  nextDueAt(): Promise<number | null>
  /**
   * Releases every lease `owner` holds (a restart: what it was sending is due again), or
   * every lease when `owner` is null (the embedded default: one process owns the file).
   */
  releaseAll(owner: string | null): Promise<void>
  /** Pending entries per app. */
  depth(): Promise<Record<string, number>>
  /** The app's delivery log, newest first. */
  deliveries(appId: string, limit: number): Promise<DeliveryRecord[]>
  close(): Promise<void>
}
