import type { Message } from '@herald/protocol'
import type Database from 'better-sqlite3'

export interface PositionRow {
  appId: string
  channel: string
  epoch: string
  seq: number
  ttlMs: number
  activeAt: number
  /** The channel's historySize at its last write (null: written before it was stored, rows trimmed exactly). */
  historySize: number | null
}

/** Channels examined per sweep at most (the next sweep takes the rest). */
const SWEEP_BATCH = 5_000

/**
 * The prepared statements of the SQLite broker over the tables of `schema-history-sqlite.ts`
 * (plain SQL on the hot path: one insert per message, one upsert per channel and commit).
 */
export class HistoryStatements {
  private readonly s
  readonly transaction: (fn: () => void) => void

  constructor(db: Database.Database) {
    this.s = {
      position: db.prepare<[string, string], PositionRow>(
        'SELECT app_id AS appId, channel, epoch, seq, ttl_ms AS ttlMs, active_at AS activeAt, history_size AS historySize FROM channel_positions WHERE app_id = ? AND channel = ?',
      ),
      upsertPosition: db.prepare<PositionRow>(
        `INSERT INTO channel_positions (app_id, channel, epoch, seq, ttl_ms, active_at, history_size) VALUES (@appId, @channel, @epoch, @seq, @ttlMs, @activeAt, @historySize)
         ON CONFLICT (app_id, channel) DO UPDATE SET epoch = excluded.epoch, seq = excluded.seq, ttl_ms = excluded.ttl_ms, active_at = excluded.active_at, history_size = excluded.history_size`,
      ),
      markActive: db.prepare<[number, string, string]>('UPDATE channel_positions SET active_at = ? WHERE app_id = ? AND channel = ?'),
      deletePosition: db.prepare<[string, string]>('DELETE FROM channel_positions WHERE app_id = ? AND channel = ?'),
      idlePositions: db.prepare<[number, number], PositionRow>(
        `SELECT app_id AS appId, channel, epoch, seq, ttl_ms AS ttlMs, active_at AS activeAt, history_size AS historySize FROM channel_positions WHERE active_at + ttl_ms < ? LIMIT ?`,
      ),
      newest: db.prepare<[string, string], { json: string }>('SELECT json FROM channel_history WHERE app_id = ? AND channel = ? ORDER BY seq DESC LIMIT 1'),
      messages: db.prepare<[string, string], { json: string }>('SELECT json FROM channel_history WHERE app_id = ? AND channel = ? ORDER BY seq'),
      insertMessage: db.prepare<[string, string, number, number, string]>(
        'INSERT INTO channel_history (app_id, channel, seq, expires_at, json) VALUES (?, ?, ?, ?, ?)',
      ),
      trimBelow: db.prepare<[string, string, number]>('DELETE FROM channel_history WHERE app_id = ? AND channel = ? AND seq <= ?'),
      dropHistory: db.prepare<[string, string]>('DELETE FROM channel_history WHERE app_id = ? AND channel = ?'),
      ids: db.prepare<[string, string, number], { id: string; expiresAt: number; json: string }>(
        'SELECT id, expires_at AS expiresAt, json FROM channel_idempotency WHERE app_id = ? AND channel = ? AND expires_at > ? ORDER BY expires_at',
      ),
      insertId: db.prepare<[string, string, string, number, string]>(
        'INSERT OR REPLACE INTO channel_idempotency (app_id, channel, id, expires_at, json) VALUES (?, ?, ?, ?, ?)',
      ),
      dropIds: db.prepare<[string, string]>('DELETE FROM channel_idempotency WHERE app_id = ? AND channel = ?'),
      expireIds: db.prepare<[number]>('DELETE FROM channel_idempotency WHERE expires_at <= ?'),
      removeAppHistory: db.prepare<[string]>('DELETE FROM channel_history WHERE app_id = ?'),
      removeAppIds: db.prepare<[string]>('DELETE FROM channel_idempotency WHERE app_id = ?'),
      removeAppPositions: db.prepare<[string]>('DELETE FROM channel_positions WHERE app_id = ?'),
      ping: db.prepare('SELECT 1'),
    }
    const tx = db.transaction((fn: () => void) => fn())
    // IMMEDIATE: take the write lock at BEGIN, so a busy file fails before anything is applied.
    this.transaction = (fn) => tx.immediate(fn)
  }

  position(appId: string, channel: string): PositionRow | undefined {
    return this.s.position.get(appId, channel)
  }

  upsertPosition(row: PositionRow): void {
    this.s.upsertPosition.run(row)
  }

  markActive(appId: string, channel: string, at: number): void {
    this.s.markActive.run(at, appId, channel)
  }

  deletePosition(appId: string, channel: string): void {
    this.s.deletePosition.run(appId, channel)
  }

  /** Channels whose last activity is older than their TTL: every message they had has expired. */
  idlePositions(now: number): PositionRow[] {
    return this.s.idlePositions.all(now, SWEEP_BATCH)
  }

  /** The channel's newest stored message (its last publish, with `historySize` > 0). */
  newest(appId: string, channel: string): Message | undefined {
    const row = this.s.newest.get(appId, channel)
    return row ? (JSON.parse(row.json) as Message) : undefined
  }

  messages(appId: string, channel: string): Message[] {
    return this.s.messages.all(appId, channel).map((r) => JSON.parse(r.json) as Message)
  }

  insertMessage(appId: string, channel: string, seq: number, expiresAt: number, json: string): void {
    this.s.insertMessage.run(appId, channel, seq, expiresAt, json)
  }

  /** Deletes the channel's messages up to `seq` (dead by size or TTL): a primary-key range. */
  trimBelow(appId: string, channel: string, seq: number): void {
    this.s.trimBelow.run(appId, channel, seq)
  }

  ids(appId: string, channel: string, now: number): { id: string; expiresAt: number; message: Message }[] {
    return this.s.ids.all(appId, channel, now).map((r) => ({ id: r.id, expiresAt: r.expiresAt, message: JSON.parse(r.json) as Message }))
  }

  insertId(appId: string, channel: string, id: string, expiresAt: number, json: string): void {
    this.s.insertId.run(appId, channel, id, expiresAt, json)
  }

  /** Deletes the channel's messages and ids (its epoch is over); its position row stays. */
  dropChannel(appId: string, channel: string): void {
    this.s.dropHistory.run(appId, channel)
    this.s.dropIds.run(appId, channel)
  }

  /** Deletes expired publisher ids (by their `expires_at` index; expired messages are trimmed per channel by {@link trimBelow}). */
  deleteExpiredIds(now: number): void {
    this.s.expireIds.run(now)
  }

  removeApp(appId: string): void {
    this.transaction(() => {
      this.s.removeAppHistory.run(appId)
      this.s.removeAppIds.run(appId)
      this.s.removeAppPositions.run(appId)
    })
  }

  ping(): void {
    this.s.ping.get()
  }
}
