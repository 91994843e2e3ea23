import { DELIVERY_LOG_SIZE, type DeliveryAttempt, type DeliveryRecord, type NewOutboxEntry, type Outbox, type OutboxEntry } from './outbox.js'

interface Row extends OutboxEntry {
  nextAttemptAt: number
  leaseOwner: string | null
  leaseUntil: number
}

/** An in-process outbox for unit tests (nothing survives the process). */
export class MemoryOutbox implements Outbox {
  private readonly rows = new Map<number, Row>()
  private readonly log = new Map<string, DeliveryRecord[]>()
  private nextId = 1
  private nextLogId = 1

  async enqueue(entry: NewOutboxEntry, now: number): Promise<void> {
    const id = this.nextId++
    this.rows.set(id, { ...entry, eventNames: [...entry.eventNames], id, createdAt: now, attempts: 0, nextAttemptAt: now, leaseOwner: null, leaseUntil: 0 })
  }

  /** The oldest entry of each (app, URL) queue. */
  private heads(): Row[] {
    const heads = new Map<string, Row>()
    for (const row of this.rows.values()) {
      const q = row.appId + '\u0000' + row.url
      const head = heads.get(q)
      if (!head || row.id < head.id) heads.set(q, row)
    }
    return [...heads.values()]
  }

  async claim(owner: string, now: number, leaseMs: number, limit: number): Promise<OutboxEntry[]> {
    const due = this.heads()
      .filter((r) => r.nextAttemptAt <= now && r.leaseUntil < now)
      .sort((a, b) => a.nextAttemptAt - b.nextAttemptAt || a.id - b.id)
    return due.slice(0, limit).map((r) => {
      r.leaseOwner = owner
      r.leaseUntil = now + leaseMs
      return view(r)
    })
  }

  async retry(entry: OutboxEntry, nextAttemptAt: number, attempt: DeliveryAttempt): Promise<void> {
    const row = this.rows.get(entry.id)
    if (row) Object.assign(row, { attempts: attempt.attempt, nextAttemptAt, leaseOwner: null, leaseUntil: 0 })
    this.record(entry, attempt)
  }

  async finish(entry: OutboxEntry, attempt: DeliveryAttempt): Promise<void> {
    this.rows.delete(entry.id)
    this.record(entry, attempt)
  }

  async nextDueAt(): Promise<number | null> {
    let min: number | null = null
    for (const r of this.heads()) {
      const at = Math.max(r.nextAttemptAt, r.leaseUntil)
      if (min === null || at < min) min = at
    }
    return min
  }

  async releaseAll(owner: string | null): Promise<void> {
    for (const r of this.rows.values()) if (owner === null || r.leaseOwner === owner) Object.assign(r, { leaseOwner: null, leaseUntil: 0 })
  }

  async depth(): Promise<Record<string, number>> {
    const out: Record<string, number> = {}
    for (const r of this.rows.values()) out[r.appId] = (out[r.appId] ?? 0) + 1
    return out
  }

  async deliveries(appId: string, limit: number): Promise<DeliveryRecord[]> {
    return (this.log.get(appId) ?? []).slice(0, limit)
  }

  /** Drops everything of an app (what the database's cascade does on delete). */
  forgetApp(appId: string): void {
    for (const [id, r] of this.rows) if (r.appId === appId) this.rows.delete(id)
    this.log.delete(appId)
  }

  async close(): Promise<void> {}

  private record(entry: OutboxEntry, attempt: DeliveryAttempt): void {
    let list = this.log.get(entry.appId)
    if (!list) this.log.set(entry.appId, (list = []))
    list.unshift({ ...attempt, id: this.nextLogId++, url: entry.url, eventNames: [...entry.eventNames] })
    list.length = Math.min(list.length, DELIVERY_LOG_SIZE)
  }
}

function view(r: Row): OutboxEntry {
  return { id: r.id, appId: r.appId, url: r.url, body: r.body, eventNames: [...r.eventNames], createdAt: r.createdAt, attempts: r.attempts }
}
