import type { Message, Position } from '@herald/protocol'
import type Database from 'better-sqlite3'
import { drizzle } from 'drizzle-orm/better-sqlite3'
import { migrate } from 'drizzle-orm/better-sqlite3/migrator'
import { migrationsFolder } from '../apps/app-store-rows.js'
import { DatabaseFileError, describeSqliteError, openSqliteFile, type SqliteSynchronous } from '../sqlite-file.js'
import {
  IDEMPOTENCY_WINDOW_MS,
  type Broker,
  type BrokerHandler,
  type ChannelOptions,
  type NodeState,
  type PublishInput,
  type PublishOutcome,
  type RecoverResult,
} from './broker.js'
import { newEpoch } from './broker-ids.js'
import { buildMessage, messageJson } from './broker-memory.js'
import { startCheckpointer } from './broker-sqlite-checkpointer.js'
import { HistoryStatements } from './broker-sqlite-statements.js'
import { atTurnEnd } from './turn.js'
import { ChannelCache, type ChannelWindow, DEFAULT_CHANNEL_OPTIONS, newChannelWindow, rememberId, seenId, trimHistory } from './channel-cache.js'

export interface SqliteBrokerOptions {
  /** An open database whose schema is migrated (`migrations/sqlite`). */
  db: Database.Database
  /** Close `db` with the broker (default false). */
  closeDb?: boolean
  /** Called on close, before the database is closed (stops the checkpointer). */
  beforeClose?: () => Promise<void>
  /** How often expired rows and idle channels are swept (ms). Default 60 s. */
  sweepIntervalMs?: number
  /** A channel nobody used for this long leaves the in-memory cache (its rows stay). Default 60 s. */
  cacheIdleMs?: number
  /** The clock (tests). */
  now?: () => number
  /** A channel for which this says true (it has presence) keeps its epoch even when idle. */
  inUse?: (appId: string, channel: string) => boolean
}

/** The cached window of a channel (`seq` and `history`: committed only), and what its commit needs. */
interface ChannelState extends ChannelWindow {
  appId: string
  name: string
  /** Last assigned seq: `next - seq` messages wait for the commit of this turn. */
  next: number
  /** Publisher ids assigned in this turn, not committed yet. */
  pendingIds: Map<string, Message>
  /** Lowest seq that may still have a row (rows below it were deleted: trimmed by size or expired). */
  diskFloor: number
  /** The channel started a new epoch: its old rows go in the next commit. */
  reset: boolean
  /** The TTL and historySize its position row holds (null: no row yet, or not known): a change rewrites the row. */
  written: { ttlMs: number; historySize: number } | null
  /** The `active_at` its position row holds, or its newest row's `ts` if later (what a load would take). */
  activeWritten: number
}

interface Fresh {
  ch: ChannelState
  message: Message
  json: string
  publisherId?: string
  /** The session the message is not delivered to ({@link PublishInput.exclude}). */
  exclude?: string
}

interface QueuedPublish {
  appId: string
  outcomes: PublishOutcome[]
  fresh: Fresh[]
  resolve: (outcomes: PublishOutcome[]) => void
  reject: (err: unknown) => void
}

/**
 * The embedded broker with durable history: seq, epochs, history and publisher ids are rows
 * of the node's SQLite file, so a restart (even `kill -9`) continues every channel in its
 * epoch. Fan-out is in process.
 *
 * Writes are grouped: every publish of one event-loop turn is assigned its seq at once, then
 * one transaction at the end of the turn commits them all; only then are they delivered and
 * their promises resolved. A failed commit (a full disk) rejects every publish of the turn and
 * rolls the seqs back: nothing that was not stored is acknowledged or delivered. Readers see
 * committed messages only, from an in-memory copy of each hot channel.
 *
 * @example
 * const broker = new SqliteBroker({ db })
 * await broker.start(hub, () => hub.localState())
 */
export class SqliteBroker implements Broker {
  readonly driver = 'sqlite' as const
  private handler: BrokerHandler | null = null
  private readonly sql: HistoryStatements
  private readonly cache: ChannelCache<ChannelState>
  private queue: QueuedPublish[] = []
  private touched = new Set<ChannelState>()
  /** A commit is queued for the end of this turn ({@link atTurnEnd}). */
  private scheduled = false
  /** A commit found the file locked: the next try, and when the first try of this run failed. */
  private retry: NodeJS.Timeout | null = null
  private busySince: number | null = null
  private sweeper: NodeJS.Timeout | null = null
  private readonly now: () => number
  /** Transactions committed by publishes, the messages they stored, and commits tried again on a locked file (for metrics and tests). */
  readonly stats = { commits: 0, messages: 0, busyRetries: 0 }

  constructor(private readonly options: SqliteBrokerOptions) {
    this.sql = new HistoryStatements(options.db)
    this.now = options.now ?? Date.now
    this.cache = new ChannelCache<ChannelState>({
      now: this.now,
      open: (appId, name, now, stale) => (stale ? this.renew(stale, now) : this.load(appId, name, now)),
      inUse: options.inUse,
      busy: (ch) => ch.next !== ch.seq,
    })
  }

  /** `localState` is not used: cluster state has its own driver. */
  async start(handler: BrokerHandler, _localState?: () => NodeState): Promise<void> {
    this.handler = handler
    this.sweeper = setInterval(() => this.sweepSafely(), this.options.sweepIntervalMs ?? 60_000)
    this.sweeper.unref()
  }

  publish(appId: string, inputs: PublishInput[], options: ChannelOptions): Promise<PublishOutcome[]> {
    const now = this.now()
    const outcomes: PublishOutcome[] = []
    const fresh: Fresh[] = []
    try {
      for (const input of inputs) {
        const ch = this.cache.get(appId, input.channel, now)
        ch.options = { historySize: options.historySize, historyTtlSeconds: options.historyTtlSeconds }
        ch.lastActivity = now
        this.touched.add(ch)
        if (input.id !== undefined) {
          const seen = ch.pendingIds.get(input.id) ?? seenId(ch, input.id, now)
          if (seen) {
            outcomes.push({ message: seen, duplicate: true })
            continue
          }
        }
        const message = buildMessage(input, ++ch.next, ch.epoch, now)
        const item: Fresh = { ch, message, json: input.dataJson === undefined ? JSON.stringify(message) : messageJson(message, input.dataJson) }
        if (input.id !== undefined) {
          item.publisherId = input.id
          ch.pendingIds.set(input.id, message)
        }
        if (input.exclude !== undefined) item.exclude = input.exclude
        fresh.push(item)
        outcomes.push({ message, duplicate: false })
      }
    } catch (err) {
      // A read of a cold channel failed: undo this call's seqs (others of the turn keep theirs).
      for (const f of fresh.reverse()) {
        f.ch.next--
        if (f.publisherId !== undefined) f.ch.pendingIds.delete(f.publisherId)
      }
      return Promise.reject(err)
    }
    return new Promise((resolve, reject) => {
      this.queue.push({ appId, outcomes, fresh, resolve, reject })
      this.schedule()
    })
  }

  async subscribe(appId: string, channel: string): Promise<void> {
    this.cache.subscribe(appId, channel)
  }

  async unsubscribe(appId: string, channel: string): Promise<void> {
    this.cache.unsubscribe(appId, channel)
  }

  async position(appId: string, channel: string): Promise<Position> {
    return this.cache.position(appId, channel)
  }

  async history(appId: string, channel: string, query: { limit: number; after?: number }): Promise<{ epoch: string; messages: Message[] }> {
    return this.cache.history(appId, channel, query)
  }

  async recover(appId: string, channel: string, since: Position, limit: number): Promise<RecoverResult> {
    return this.cache.recover(appId, channel, since, limit)
  }

  /**
   * Deletes the app's rows, after what is queued (its rows are the app's too) is committed. A
   * locked file is waited out as a commit waits it out (every {@link BUSY_RETRY_DELAY_MS}, for
   * up to {@link BUSY_RETRY_FOR_MS}), off the event loop.
   */
  async removeApp(appId: string): Promise<void> {
    const since = this.now()
    for (;;) {
      this.flush()
      if (!this.retry) {
        try {
          this.sql.removeApp(appId)
          break
        } catch (err) {
          const described = describeSqliteError(this.options.db.name, err)
          if (!isLocked(described) || this.now() - since >= BUSY_RETRY_FOR_MS) throw described
        }
      }
      await new Promise((resolve) => setTimeout(resolve, BUSY_RETRY_DELAY_MS))
    }
    this.cache.removeApp(appId)
  }

  async ping(): Promise<void> {
    this.sql.ping()
  }

  async close(): Promise<void> {
    this.flush(true)
    if (this.sweeper) clearInterval(this.sweeper)
    this.sweeper = null
    this.handler = null
    await this.options.beforeClose?.()
    if (this.options.closeDb && this.options.db.open) this.options.db.close()
  }

  // ---- the commit of one turn ----------------------------------------------------------

  private schedule(): void {
    if (this.retry) return // the retry takes what is queued by then
    if (this.scheduled) return
    this.scheduled = true
    atTurnEnd('commit', () => this.scheduled && this.flush())
  }

  /**
   * Commits everything assigned since the last commit in one transaction, then delivers and
   * acknowledges it. A commit that finds the file locked (SQLITE_BUSY: the checkpointer
   * restarting the WAL, a backup) keeps its seqs and is tried again every
   * {@link BUSY_RETRY_DELAY_MS} with what was published meanwhile, for up to
   * {@link BUSY_RETRY_FOR_MS}; only then, or on `final` (close), are its publishes refused.
   */
  private flush(final = false): void {
    this.scheduled = false
    if (this.retry) clearTimeout(this.retry)
    this.retry = null
    const queue = this.queue
    const touched = this.touched
    if (queue.length === 0 && touched.size === 0) return
    this.queue = []
    this.touched = new Set()
    const now = this.now()
    /** The channels whose dead rows this commit deletes, and the seq it deletes up to. */
    const trims = new Map<ChannelState, number>()
    /** The channels whose position row this commit writes. */
    const positions: ChannelState[] = []
    for (const ch of touched) {
      const dead = deadUpTo(ch, now)
      if (dead - ch.diskFloor + 1 >= trimSlack(ch)) trims.set(ch, dead)
    }
    try {
      this.sql.transaction(() => {
        for (const ch of touched) {
          if (ch.reset) this.sql.dropChannel(ch.appId, ch.name)
        }
        for (const q of queue) {
          for (const f of q.fresh) {
            const ttlMs = f.ch.options.historyTtlSeconds * 1000
            this.sql.insertMessage(f.ch.appId, f.ch.name, f.message.seq, f.message.ts + ttlMs, f.json)
            if (f.publisherId !== undefined) this.sql.insertId(f.ch.appId, f.ch.name, f.publisherId, f.message.ts + IDEMPOTENCY_WINDOW_MS, f.json)
          }
        }
        for (const ch of touched) {
          const trim = trims.get(ch)
          if (trim !== undefined) this.sql.trimBelow(ch.appId, ch.name, trim)
          if (mustWritePosition(ch, trim)) {
            this.writePosition(ch, ch.next)
            positions.push(ch)
          }
        }
      })
    } catch (err) {
      const described = describeSqliteError(this.options.db.name, err)
      if (!final && isLocked(described)) {
        this.busySince ??= now
        if (now - this.busySince < BUSY_RETRY_FOR_MS) {
          this.queue = queue.concat(this.queue)
          for (const ch of touched) this.touched.add(ch)
          this.stats.busyRetries++
          this.retry = setTimeout(() => this.flush(), BUSY_RETRY_DELAY_MS)
          return
        }
      }
      this.busySince = null
      for (const ch of touched) {
        ch.next = ch.seq
        ch.pendingIds.clear()
        // Its position (and a new epoch's cleanup) is written again with its next change.
      }
      for (const q of queue) q.reject(described)
      return
    }
    this.busySince = null
    this.stats.commits++
    for (const q of queue) this.stats.messages += q.fresh.length
    for (const [ch, trim] of trims) ch.diskFloor = trim + 1
    for (const ch of positions) positionWritten(ch)
    for (const ch of touched) {
      ch.reset = false
      ch.seq = ch.next
      ch.pendingIds.clear()
    }
    for (const q of queue) {
      for (const f of q.fresh) {
        f.ch.history.push(f.message)
        if (f.publisherId !== undefined) rememberId(f.ch, f.publisherId, f.message, f.message.ts)
      }
    }
    for (const ch of touched) trimHistory(ch, now)
    for (const q of queue) {
      for (const f of q.fresh) this.handler?.onMessage(q.appId, f.message, f.json, f.exclude)
      q.resolve(q.outcomes)
    }
  }

  /**
   * Writes the channel's position row. A commit that appends rows to a channel and leaves its
   * newest row on disk does not need it (see {@link mustWritePosition}): its seq and last
   * publish are those of its newest row, which a load and the sweep read.
   */
  private writePosition(ch: ChannelState, seq: number): void {
    this.sql.upsertPosition({
      appId: ch.appId,
      channel: ch.name,
      epoch: ch.epoch,
      seq,
      ttlMs: ch.options.historyTtlSeconds * 1000,
      activeAt: ch.lastActivity,
      historySize: ch.options.historySize,
    })
  }

  // ---- channels ------------------------------------------------------------------------

  /** Idle past its TTL (and not in use): every message has expired, so the history really is gone. */
  private renew(ch: ChannelState, now: number): ChannelState {
    startEpoch(ch, now)
    this.touch(ch)
    return ch
  }

  /** A channel not cached: loaded from its rows, or new (in a new epoch, written with the next commit). */
  private load(appId: string, name: string, now: number): ChannelState {
    const row = this.sql.position(appId, name)
    const ch: ChannelState = {
      ...newChannelWindow(row?.epoch ?? newEpoch(), row?.seq ?? 0, row?.activeAt ?? now),
      appId,
      name,
      next: row?.seq ?? 0,
      pendingIds: new Map(),
      diskFloor: 1,
      reset: row === undefined,
      written: row?.historySize == null ? null : { ttlMs: row.ttlMs, historySize: row.historySize },
      activeWritten: row?.activeAt ?? now,
    }
    if (!row) {
      this.touch(ch)
      return ch
    }
    ch.options = { historySize: row.historySize ?? DEFAULT_CHANNEL_OPTIONS.historySize, historyTtlSeconds: row.ttlMs / 1000 }
    ch.history = this.sql.messages(appId, name)
    // The position row is not rewritten by every commit: the newest row has the last seq and publish.
    const newest = ch.history.at(-1)
    if (newest !== undefined && newest.epoch === ch.epoch) {
      ch.seq = Math.max(ch.seq, newest.seq)
      ch.next = ch.seq
      ch.lastActivity = Math.max(ch.lastActivity, newest.ts)
      ch.activeWritten = ch.lastActivity
    }
    if (this.cache.idle(ch, now)) return this.renew(ch, now)
    ch.diskFloor = ch.history[0]?.seq ?? ch.seq + 1
    // Up to `historySize + slack - 1` rows are on disk: keep the newest `historySize` (unexpired,
    // by trimHistory below). A row written before history_size was stored had its rows trimmed exactly.
    if (row.historySize === null) ch.options = { ...ch.options, historySize: Math.max(DEFAULT_CHANNEL_OPTIONS.historySize, ch.history.length) }
    for (const { id, expiresAt, message } of this.sql.ids(appId, name, now)) ch.idempotency.set(id, { message, expiresAt })
    trimHistory(ch, now)
    return ch
  }

  /** The channel's position row is written with the next commit. */
  private touch(ch: ChannelState): void {
    this.touched.add(ch)
    this.schedule()
  }

  // ---- sweeping ------------------------------------------------------------------------

  private sweepSafely(): void {
    try {
      this.sweep()
    } catch {
      // A full or busy disk: the next sweep tries again; nothing acknowledged depends on it.
    }
  }

  /**
   * Deletes expired ids and the dead rows (expired, or past historySize) of cached channels,
   * forgets channels whose history is gone, and uncaches idle ones. Rows are deleted by primary
   * key range, channel by channel: no index on `expires_at`, no scan of the table. An uncached
   * channel keeps at most `historySize + slack - 1` rows until it is idle past its TTL and
   * dropped whole (a load filters expired rows out).
   */
  sweep(now = this.now()): void {
    this.flush()
    const idleMs = this.options.cacheIdleMs ?? 60_000
    const trims = new Map<ChannelState, number>()
    for (const ch of this.cache.values()) {
      if (trims.size >= SWEEP_TRIM_BATCH) break
      if (ch.reset) continue
      const dead = deadUpTo(ch, now)
      if (dead >= ch.diskFloor) trims.set(ch, dead)
    }
    const positions: ChannelState[] = []
    const marked: Array<[ChannelState, number]> = []
    const dropped: Array<[string, string]> = []
    const evicting = new Set<ChannelState>()
    for (const ch of this.cache.values()) if (!ch.reset && this.cache.unused(ch.appId, ch.name, ch, now, idleMs)) evicting.add(ch)
    this.sql.transaction(() => {
      this.sql.deleteExpiredIds(now)
      for (const [ch, dead] of trims) {
        this.sql.trimBelow(ch.appId, ch.name, dead)
        // Its newest row is gone (all expired): the position row must hold the seq now.
        if (dead >= ch.seq) {
          this.writePosition(ch, ch.seq)
          positions.push(ch)
        }
      }
      for (const row of this.sql.idlePositions(now)) {
        const ch = this.cache.peek(row.appId, row.channel)
        if (ch && !this.cache.unused(row.appId, row.channel, ch, now)) {
          const at = Math.max(ch.lastActivity, now)
          this.sql.markActive(row.appId, row.channel, at)
          marked.push([ch, at])
          continue
        }
        if (!ch) {
          // Not cached: its active_at may be older than its last publish, the ts of its newest row.
          const newest = this.sql.newest(row.appId, row.channel)
          if (newest !== undefined && newest.epoch === row.epoch && newest.ts + row.ttlMs >= now) {
            this.sql.markActive(row.appId, row.channel, newest.ts)
            continue
          }
        }
        this.sql.dropChannel(row.appId, row.channel)
        this.sql.deletePosition(row.appId, row.channel)
        dropped.push([row.appId, row.channel])
      }
      // A channel leaving the cache takes its last activity with it: write it first where the row is behind.
      for (const ch of evicting) {
        if (ch.lastActivity > ch.activeWritten) {
          this.sql.markActive(ch.appId, ch.name, ch.lastActivity)
          marked.push([ch, ch.lastActivity])
        }
      }
    })
    for (const [ch, dead] of trims) ch.diskFloor = Math.max(ch.diskFloor, dead + 1)
    for (const ch of positions) positionWritten(ch)
    for (const [ch, at] of marked) ch.activeWritten = Math.max(ch.activeWritten, at)
    for (const [appId, channel] of dropped) this.cache.delete(appId, channel)
    this.cache.evict((ch) => evicting.has(ch))
  }
}

/**
 * Whether a commit must write the channel's position row: a new channel or epoch, a changed TTL
 * or historySize, or a commit that deletes its newest row (historySize 0, or everything
 * expired). Otherwise the newest row, written in the same commit or kept since the last
 * position write, holds the channel's seq and last publish: a load and the sweep take them
 * from it. This saves a b-tree page write per channel and commit.
 */
function mustWritePosition(ch: ChannelState, trim: number | undefined): boolean {
  const w = ch.written
  if (ch.reset || w === null) return true
  if (w.ttlMs !== ch.options.historyTtlSeconds * 1000 || w.historySize !== ch.options.historySize) return true
  return trim !== undefined && trim >= ch.next
}

/** After a committed position write. */
function positionWritten(ch: ChannelState): void {
  ch.written = { ttlMs: ch.options.historyTtlSeconds * 1000, historySize: ch.options.historySize }
  ch.activeWritten = Math.max(ch.activeWritten, ch.lastActivity)
}

/** SQLITE_BUSY / SQLITE_LOCKED, as {@link describeSqliteError} names it: another connection holds the file for now. */
function isLocked(err: unknown): boolean {
  return err instanceof DatabaseFileError && err.reason === 'locked'
}

/** How long a commit that finds the file locked is tried again before its publishes are refused (ms). */
export const BUSY_RETRY_FOR_MS = 5_000
/** The wait between those tries (ms). */
const BUSY_RETRY_DELAY_MS = 2

/** Cached channels whose dead rows one sweep deletes at most (the next sweep takes the rest). */
const SWEEP_TRIM_BATCH = 5_000

/**
 * How many dead rows a channel may keep on disk before a commit deletes them: deleting on
 * every commit would write the b-tree pages of a delete into the WAL every time.
 */
export function trimSlack(ch: ChannelState): number {
  return Math.max(16, Math.floor(Math.max(0, ch.options.historySize) / 4))
}

/**
 * The highest seq of the channel whose row is dead: past `historySize` (counting the seqs
 * assigned in this turn) or out of its in-memory window (expired). The window is trimmed at
 * `now` first, and holds committed messages only.
 */
function deadUpTo(ch: ChannelState, now: number): number {
  trimHistory(ch, now)
  const windowFloor = ch.history[0]?.seq ?? ch.seq + 1
  return Math.max(ch.next - Math.max(0, ch.options.historySize), windowFloor - 1)
}

function startEpoch(ch: ChannelState, now: number): void {
  ch.epoch = newEpoch()
  ch.seq = 0
  ch.next = 0
  ch.history = []
  ch.idempotency = new Map()
  ch.pendingIds = new Map()
  ch.lastActivity = now
  ch.diskFloor = 1
  ch.reset = true
  ch.written = null
}

export interface SqliteBrokerFileOptions {
  /** The database file (`<HERALD_DATA_DIR>/herald.db`, shared with the app store). */
  file: string
  synchronous?: SqliteSynchronous
  /** Where the drizzle-kit migrations are; defaults to `<repo>/migrations/sqlite`. */
  migrationsFolder?: string
  sweepIntervalMs?: number
  cacheIdleMs?: number
  /** A checkpoint failed in the worker (logged by the node). */
  onCheckpointError?: (message: string) => void
  /** See {@link SqliteBrokerOptions.inUse}. */
  inUse?: (appId: string, channel: string) => boolean
}

/**
 * Opens the database file with its own connection, applies pending migrations and returns a
 * broker that closes the connection with itself. The WAL is checkpointed by a worker thread
 * ({@link startCheckpointer}), never in a commit on the event loop.
 *
 * @example
 * const broker = openSqliteBroker({ file: join(config.dataDir, 'herald.db') })
 */
export function openSqliteBroker(options: SqliteBrokerFileOptions): SqliteBroker {
  const db = openSqliteFile(options.file, { synchronous: options.synchronous })
  try {
    migrate(drizzle({ client: db }), { migrationsFolder: options.migrationsFolder ?? migrationsFolder('sqlite') })
  } catch (err) {
    db.close()
    throw describeSqliteError(options.file, err)
  }
  db.pragma('wal_autocheckpoint = 0')
  // A commit that finds the file locked is tried again a moment later (SqliteBroker.flush):
  // waiting in SQLite's busy handler instead would stop the event loop for as long.
  db.pragma('busy_timeout = 0')
  const stopCheckpointer = startCheckpointer({ file: options.file, onError: options.onCheckpointError })
  const broker: SqliteBrokerOptions = { db, closeDb: true, beforeClose: stopCheckpointer }
  if (options.sweepIntervalMs !== undefined) broker.sweepIntervalMs = options.sweepIntervalMs
  if (options.cacheIdleMs !== undefined) broker.cacheIdleMs = options.cacheIdleMs
  if (options.inUse) broker.inUse = options.inUse
  return new SqliteBroker(broker)
}
