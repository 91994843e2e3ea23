import { cpSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import Database from 'better-sqlite3'
import { drizzle } from 'drizzle-orm/better-sqlite3'
import { migrate } from 'drizzle-orm/better-sqlite3/migrator'
import { migrationsFolder } from '../apps/app-store-rows.js'
import { afterAll, afterEach, describe, expect, it, vi } from 'vitest'
import type { ChannelOptions } from './broker.js'
import { brokerContract, newTestAppId, Recorder } from './broker.contract.js'
import { openSqliteBroker, SqliteBroker } from './broker-sqlite.js'
import { HistoryStatements } from './broker-sqlite-statements.js'
import type { ChannelCache, ChannelWindow } from './channel-cache.js'

const dirs: string[] = []
afterAll(() => {
  for (const d of dirs) rmSync(d, { recursive: true, force: true })
})

/** A fresh data folder; its `herald.db` is a real SQLite file. */
function newFile(): string {
  const dir = mkdtempSync(join(tmpdir(), 'herald-broker-sqlite-'))
  dirs.push(dir)
  return join(dir, 'herald.db')
}

brokerContract('sqlite', {
  shared: false,
  async start(handler, localState) {
    const broker = openSqliteBroker({ file: newFile() })
    await broker.start(handler, localState ?? (() => ({})))
    return broker
  },
  async startWithClock(handler, now) {
    const file = newFile()
    await openSqliteBroker({ file }).close() // migrates
    const broker = new SqliteBroker({ db: new Database(file), closeDb: true, now, sweepIntervalMs: 3_600_000 })
    await broker.start(handler, () => ({}))
    return broker
  },
})

const OPTS: ChannelOptions = { historySize: 100, historyTtlSeconds: 3600 }

describe('SqliteBroker', () => {
  const open: SqliteBroker[] = []
  afterEach(async () => {
    await Promise.all(open.splice(0).map((b) => b.close()))
  })

  /** A started broker on `file`, with a clock the test moves. */
  async function node(file: string, clock?: { now: number }, extra: { cacheIdleMs?: number } = {}) {
    const rec = new Recorder()
    let broker: SqliteBroker
    if (clock) {
      const db = openSqliteBroker({ file }) // migrates
      await db.close()
      const conn = new Database(file)
      broker = new SqliteBroker({ db: conn, closeDb: true, now: () => clock.now, sweepIntervalMs: 3_600_000, ...extra })
    } else {
      broker = openSqliteBroker({ file, ...extra })
    }
    await broker.start(rec, () => ({}))
    open.push(broker)
    return { broker, rec }
  }

  /** What a second connection (another process, or the node after a crash) reads from the file. */
  function rows(file: string, sql: string, ...params: unknown[]): unknown[] {
    const db = new Database(file, { readonly: true, fileMustExist: true })
    try {
      return db.prepare(sql).all(...params)
    } finally {
      db.close()
    }
  }

  it('continues every channel in its epoch and seq after a restart, with its history and publisher ids', async () => {
    const file = newFile()
    const app = newTestAppId()
    const a = await node(file)
    const outs = await a.broker.publish(
      app,
      [1, 2, 3].map((i) => ({ channel: 'keep', data: i })),
      OPTS,
    )
    const [withId] = await a.broker.publish(app, [{ channel: 'keep', data: 'once', id: 'order-7' }], OPTS)
    const epoch = outs[0]!.message.epoch
    // No close: the process dies here. The connection is simply dropped, as kill -9 would.
    open.splice(open.indexOf(a.broker), 1)

    const b = await node(file)
    await b.broker.subscribe(app, 'keep')
    expect(await b.broker.position(app, 'keep')).toEqual({ epoch, seq: 4 })
    const rec = await b.broker.recover(app, 'keep', { epoch, seq: 1 }, 100)
    expect(rec.recovered).toBe(true)
    expect(rec.messages).toEqual([...outs.slice(1).map((o) => o.message), withId!.message])
    const [again] = await b.broker.publish(app, [{ channel: 'keep', data: 'twice', id: 'order-7' }], OPTS)
    expect(again).toEqual({ message: withId!.message, duplicate: true })
    const [next] = await b.broker.publish(app, [{ channel: 'keep', data: 5 }], OPTS)
    expect(next!.message).toMatchObject({ epoch, seq: 5 })
    expect(b.rec.of(app, 'keep').map((m) => m.data)).toEqual([5])
    await a.broker.close()
  })

  it('acknowledges and delivers only after the commit, and commits a burst of one turn as one transaction', async () => {
    const file = newFile()
    const { broker, rec } = await node(file)
    const app = newTestAppId()
    await broker.subscribe(app, 'burst')
    const before = await broker.position(app, 'burst')
    await new Promise((r) => setImmediate(r)) // the new channel's position row is written
    const commits = broker.stats.commits
    let acked = 0
    const pending = Array.from({ length: 50 }, (_, i) => broker.publish(app, [{ channel: 'burst', data: i }], OPTS).then(() => acked++))
    // Same turn: nothing stored, delivered, acknowledged or visible to readers yet.
    expect(rows(file, 'SELECT seq FROM channel_history WHERE app_id = ?', app)).toEqual([])
    expect(rec.of(app, 'burst')).toEqual([])
    expect(await broker.position(app, 'burst')).toEqual(before)
    expect(acked).toBe(0)
    await Promise.all(pending)
    expect(broker.stats.commits - commits).toBe(1)
    expect(rows(file, 'SELECT seq FROM channel_history WHERE app_id = ? ORDER BY seq', app)).toEqual(Array.from({ length: 50 }, (_, i) => ({ seq: i + 1 })))
    expect(rec.of(app, 'burst').map((m) => m.data)).toEqual(Array.from({ length: 50 }, (_, i) => i))
    // The hub gets the stored JSON: no second serialization.
    expect(rec.messages.every((m) => m.json !== undefined && JSON.parse(m.json).seq === m.message.seq)).toBe(true)
  })

  it('on a failed commit (disk full) acknowledges nothing, delivers nothing, and the next publish takes the same seq', async () => {
    const file = newFile()
    const { broker, rec } = await node(file)
    const app = newTestAppId()
    await broker.subscribe(app, 'full')
    const [first] = await broker.publish(app, [{ channel: 'full', data: 'ok', id: 'a' }], OPTS)
    // The driver's own error for a full disk, thrown by SQLite in the middle of the transaction.
    const spy = vi.spyOn(HistoryStatements.prototype, 'insertMessage')
    spy
      .mockImplementationOnce(() => undefined)
      .mockImplementationOnce(() => {
        throw new Database.SqliteError('database or disk is full', 'SQLITE_FULL')
      })
    const results = await Promise.allSettled([
      broker.publish(app, [{ channel: 'full', data: 'lost-1', id: 'b' }], OPTS),
      broker.publish(
        app,
        [
          { channel: 'full', data: 'lost-2' },
          { channel: 'other', data: 'lost-3' },
        ],
        OPTS,
      ),
    ])
    spy.mockRestore()
    expect(results.map((r) => r.status)).toEqual(['rejected', 'rejected'])
    expect(String((results[0] as PromiseRejectedResult).reason)).toMatch(/full/)
    expect(rec.of(app, 'full').map((m) => m.data)).toEqual(['ok'])
    expect(rows(file, 'SELECT seq FROM channel_history WHERE app_id = ?', app)).toEqual([{ seq: 1 }])
    expect(await broker.position(app, 'full')).toEqual({ epoch: first!.message.epoch, seq: 1 })
    // The id of the failed publish was not remembered: a retry is published, with the next seq.
    const [retry] = await broker.publish(app, [{ channel: 'full', data: 'retried', id: 'b' }], OPTS)
    expect(retry).toMatchObject({ duplicate: false, message: { seq: 2, data: 'retried' } })
    expect(rec.of(app, 'full').map((m) => m.seq)).toEqual([1, 2])
  })

  it('tries a commit that finds the file locked again, with its seqs, and refuses its publishes only after 5 s of that', async () => {
    const file = newFile()
    await openSqliteBroker({ file }).close() // migrates
    const clock = { now: 1_000_000 }
    // busy timeout 0, as openSqliteBroker sets it: a locked file is an immediate SQLITE_BUSY
    const broker = new SqliteBroker({ db: new Database(file, { timeout: 0 }), closeDb: true, now: () => clock.now, sweepIntervalMs: 3_600_000 })
    const rec = new Recorder()
    await broker.start(rec, () => ({}))
    open.push(broker)
    const app = newTestAppId()
    await broker.subscribe(app, 'busy')
    const other = new Database(file) // another writer (the checkpointer truncating the WAL, a backup)
    const retried = (n: number) => vi.waitFor(() => expect(broker.stats.busyRetries).toBeGreaterThanOrEqual(n), { timeout: 10_000, interval: 5 })

    other.exec('BEGIN IMMEDIATE')
    const first = broker.publish(app, [{ channel: 'busy', data: 1 }], OPTS)
    await retried(1)
    const second = broker.publish(app, [{ channel: 'busy', data: 2 }], OPTS) // joins the commit being retried
    await retried(3)
    expect(rec.of(app, 'busy')).toEqual([]) // nothing delivered before it is stored
    other.exec('COMMIT')
    expect((await first)[0]!.message.seq).toBe(1)
    expect((await second)[0]!.message.seq).toBe(2)
    expect(rec.of(app, 'busy').map((m) => m.seq)).toEqual([1, 2])

    other.exec('BEGIN IMMEDIATE')
    const before = broker.stats.busyRetries
    const refused = broker.publish(app, [{ channel: 'busy', data: 3 }], OPTS)
    await retried(before + 1)
    clock.now += 5_000
    await expect(refused).rejects.toThrow(/locked/)
    other.exec('COMMIT')
    other.close()
    expect(rows(file, 'SELECT seq FROM channel_history WHERE app_id = ? ORDER BY seq', app)).toEqual([{ seq: 1 }, { seq: 2 }])
    const [next] = await broker.publish(app, [{ channel: 'busy', data: 4 }], OPTS)
    expect(next!.message.seq).toBe(3) // the refused publish's seq was not used
  })

  it('removeApp on a locked file waits with the queued publishes, then deletes their rows too', async () => {
    const file = newFile()
    await openSqliteBroker({ file }).close() // migrates
    const broker = new SqliteBroker({ db: new Database(file, { timeout: 0 }), closeDb: true, sweepIntervalMs: 3_600_000 })
    await broker.start(new Recorder(), () => ({}))
    open.push(broker)
    const app = newTestAppId()
    const kept = newTestAppId()
    await broker.publish(kept, [{ channel: 'k', data: 1 }], OPTS)
    const other = new Database(file)
    other.exec('BEGIN IMMEDIATE')
    const published = broker.publish(app, [{ channel: 'gone', data: 1 }], OPTS)
    await vi.waitFor(() => expect(broker.stats.busyRetries).toBeGreaterThanOrEqual(1), { timeout: 10_000, interval: 5 })
    const removed = broker.removeApp(app)
    await vi.waitFor(() => expect(broker.stats.busyRetries).toBeGreaterThanOrEqual(3), { timeout: 10_000, interval: 5 })
    other.exec('COMMIT')
    other.close()
    await published
    await removed
    expect(rows(file, 'SELECT seq FROM channel_history WHERE app_id = ?', app)).toEqual([])
    expect(rows(file, 'SELECT channel FROM channel_positions WHERE app_id = ?', app)).toEqual([])
    expect(rows(file, 'SELECT seq FROM channel_history WHERE app_id = ?', kept)).toEqual([{ seq: 1 }])
  })

  it('carries a publish input’s exclude to the handler, and keeps it out of the message and its row', async () => {
    const file = newFile()
    const seen: Array<{ exclude?: string }> = []
    const broker = openSqliteBroker({ file })
    open.push(broker)
    await broker.start({ onMessage: (_a, _m, _json, exclude) => seen.push({ exclude }), onPresence: () => {} }, () => ({}))
    const app = newTestAppId()
    const [out] = await broker.publish(
      app,
      [
        { channel: 'x', data: 1, exclude: 'c_sender' },
        { channel: 'x', data: 2 },
      ],
      OPTS,
    )
    expect(seen.map((s) => s.exclude)).toEqual(['c_sender', undefined])
    expect(out!.message).not.toHaveProperty('exclude')
    expect(
      rows(file, 'SELECT json FROM channel_history WHERE app_id = ? ORDER BY seq', app)
        .map((r) => (r as { json: string }).json)
        .join(),
    ).not.toContain('c_sender')
  })

  it('keeps the table bounded by historySize plus a slack, deleting only once the slack is reached', async () => {
    const file = newFile()
    const { broker } = await node(file)
    const app = newTestAppId()
    const opts = { historySize: 5, historyTtlSeconds: 3600 } // slack: max(16, 5 / 4) = 16
    const count = () => (rows(file, 'SELECT count(*) AS n FROM channel_history WHERE app_id = ?', app)[0] as { n: number }).n
    const counts: number[] = []
    for (let i = 1; i <= 60; i++) {
      await broker.publish(app, [{ channel: 'small', data: i }], opts)
      counts.push(count())
    }
    // 5 live rows + up to 15 dead ones; the delete runs once 16 are dead (every 16th commit).
    expect(Math.max(...counts)).toBe(5 + 16 - 1)
    expect(counts.slice(5).every((n) => n >= 5 && n <= 20)).toBe(true)
    expect(counts.filter((n, i) => i > 0 && n < counts[i - 1]!).length).toBe(3) // 60 commits: 3 deletes
    expect((await broker.history(app, 'small', { limit: 100 })).messages.map((m) => m.seq)).toEqual([56, 57, 58, 59, 60])
    // A burst larger than the slack is trimmed in its own commit.
    await broker.publish(
      app,
      Array.from({ length: 30 }, (_, j) => ({ channel: 'small', data: j })),
      opts,
    )
    expect(rows(file, 'SELECT seq FROM channel_history WHERE app_id = ? ORDER BY seq', app)).toEqual([86, 87, 88, 89, 90].map((seq) => ({ seq })))
  })

  it('after a restart (kill -9) returns exactly the newest historySize rows, and keeps trimming from the rows on disk', async () => {
    const file = newFile()
    const app = newTestAppId()
    const opts = { historySize: 5, historyTtlSeconds: 3600 }
    const a = await node(file)
    for (let i = 1; i <= 12; i++) await a.broker.publish(app, [{ channel: 'small', data: i }], opts)
    expect(rows(file, 'SELECT count(*) AS n FROM channel_history WHERE app_id = ?', app)).toEqual([{ n: 12 }]) // under the slack
    open.splice(open.indexOf(a.broker), 1) // no close: the process dies here

    const b = await node(file)
    expect(await b.broker.position(app, 'small')).toMatchObject({ seq: 12 })
    expect((await b.broker.history(app, 'small', { limit: 100 })).messages.map((m) => m.seq)).toEqual([8, 9, 10, 11, 12])
    const epoch = (await b.broker.position(app, 'small')).epoch
    expect((await b.broker.recover(app, 'small', { epoch, seq: 1 }, 100)).recovered).toBe(false) // seq 2..7 are gone
    // The floor loaded from disk is seq 1: 9 more commits reach 16 dead rows (1..16) and delete them.
    for (let i = 13; i <= 20; i++) await b.broker.publish(app, [{ channel: 'small', data: i }], opts)
    expect(rows(file, 'SELECT min(seq) AS lo, count(*) AS n FROM channel_history WHERE app_id = ?', app)).toEqual([{ lo: 1, n: 20 }])
    await b.broker.publish(app, [{ channel: 'small', data: 21 }], opts)
    expect(rows(file, 'SELECT min(seq) AS lo, count(*) AS n FROM channel_history WHERE app_id = ?', app)).toEqual([{ lo: 17, n: 5 }])
    expect((await b.broker.history(app, 'small', { limit: 100 })).messages.map((m) => m.seq)).toEqual([17, 18, 19, 20, 21])
  })

  it('has no expires_at index on channel_history: the sweep deletes expired rows by primary-key range', async () => {
    const file = newFile()
    const clock = { now: 2_000_000 }
    const app = newTestAppId()
    const opts = { historySize: 100, historyTtlSeconds: 60 } // slack 25
    const { broker } = await node(file, clock)
    expect(rows(file, "SELECT name FROM sqlite_master WHERE type = 'index' AND tbl_name = 'channel_history' AND sql IS NOT NULL")).toEqual([])
    const seqs = () => rows(file, 'SELECT seq FROM channel_history WHERE app_id = ? ORDER BY seq', app).map((r) => (r as { seq: number }).seq)
    for (let i = 1; i <= 20; i++) await broker.publish(app, [{ channel: 'busy', data: i }], opts)
    clock.now += 30_000
    await broker.publish(app, [{ channel: 'busy', data: 21 }], opts)
    clock.now += 31_000 // seq 1..20 are 61 s old: expired; the channel stays active
    await broker.publish(app, [{ channel: 'busy', data: 22 }], opts)
    // 20 expired rows: under the slack, so the commit left them.
    expect(seqs()).toHaveLength(22)
    expect((await broker.history(app, 'busy', { limit: 100 })).messages.map((m) => m.seq)).toEqual([21, 22])
    broker.sweep()
    expect(seqs()).toEqual([21, 22])
    // More than the slack expired: the next commit deletes them itself, without a sweep.
    for (let i = 23; i <= 50; i++) await broker.publish(app, [{ channel: 'busy', data: i }], opts)
    clock.now += 30_000
    await broker.publish(app, [{ channel: 'busy', data: 51 }], opts)
    clock.now += 31_001 // seq 21..50 expired: 30 dead rows
    await broker.publish(app, [{ channel: 'busy', data: 52 }], opts)
    expect(seqs()).toEqual([51, 52])
  })

  it('expires history and ids by TTL on disk, keeps the epoch while history remains, and starts a new one only once it is gone', async () => {
    const file = newFile()
    const clock = { now: 1_000_000 }
    const app = newTestAppId()
    const opts = { historySize: 100, historyTtlSeconds: 600 }
    const a = await node(file, clock)
    const [m1] = await a.broker.publish(app, [{ channel: 't', data: 1, id: 'x' }], opts)
    clock.now += 300_000
    await a.broker.publish(app, [{ channel: 't', data: 2 }], opts)
    const epoch = m1!.message.epoch
    clock.now += 400_000 // m1 expired (700 s), m2 not (400 s); the id expired long ago
    a.broker.sweep()
    expect(rows(file, 'SELECT seq FROM channel_history WHERE app_id = ?', app)).toEqual([{ seq: 2 }])
    expect(rows(file, 'SELECT id FROM channel_idempotency WHERE app_id = ?', app)).toEqual([])
    await a.broker.close()
    open.splice(open.indexOf(a.broker), 1)

    const b = await node(file, clock)
    expect(await b.broker.position(app, 't')).toEqual({ epoch, seq: 2 })
    expect((await b.broker.history(app, 't', { limit: 10 })).messages.map((m) => m.seq)).toEqual([2])
    expect((await b.broker.recover(app, 't', { epoch, seq: 1 }, 100)).messages.map((m) => m.seq)).toEqual([2])
    await b.broker.close()
    open.splice(open.indexOf(b.broker), 1)

    clock.now += 300_000 // the last message is older than the TTL now: the history really is gone
    const c = await node(file, clock)
    const pos = await c.broker.position(app, 't')
    expect(pos.seq).toBe(0)
    expect(pos.epoch).not.toBe(epoch)
    expect((await c.broker.recover(app, 't', { epoch, seq: 2 }, 100)).recovered).toBe(false)
    await new Promise((r) => setImmediate(r))
    expect(rows(file, 'SELECT epoch, seq FROM channel_positions WHERE app_id = ?', app)).toEqual([{ epoch: pos.epoch, seq: 0 }])
    expect(rows(file, 'SELECT seq FROM channel_history WHERE app_id = ?', app)).toEqual([])
  })

  it('sweeps the rows of channels whose history is gone, but keeps a subscribed channel’s epoch', async () => {
    const file = newFile()
    const clock = { now: 5_000_000 }
    const app = newTestAppId()
    const opts = { historySize: 100, historyTtlSeconds: 60 }
    const { broker } = await node(file, clock)
    const [quiet] = await broker.publish(app, [{ channel: 'quiet', data: 1 }], opts)
    const [watched] = await broker.publish(app, [{ channel: 'watched', data: 1 }], opts)
    await broker.subscribe(app, 'watched')
    clock.now += 120_000
    broker.sweep()
    expect(rows(file, 'SELECT channel FROM channel_positions WHERE app_id = ?', app)).toEqual([{ channel: 'watched' }])
    expect((await broker.position(app, 'watched')).epoch).toBe(watched!.message.epoch)
    expect((await broker.position(app, 'quiet')).epoch).not.toBe(quiet!.message.epoch)
  })

  it('keeps the epoch of an idle channel that is in use (presence), as the memory broker does', async () => {
    const file = newFile()
    const clock = { now: 7_000_000 }
    const app = newTestAppId()
    const opts = { historySize: 100, historyTtlSeconds: 60 }
    await openSqliteBroker({ file }).close() // migrates
    const db = new Database(file)
    const inUse = (appId: string, channel: string) => appId === app && channel === 'presence-room'
    const broker = new SqliteBroker({ db, closeDb: true, now: () => clock.now, sweepIntervalMs: 3_600_000, inUse })
    await broker.start(new Recorder(), () => ({}))
    open.push(broker)
    const [room] = await broker.publish(app, [{ channel: 'presence-room', data: 1 }], opts)
    const [other] = await broker.publish(app, [{ channel: 'other', data: 1 }], opts)
    clock.now += 120_000
    broker.sweep()
    expect((await broker.position(app, 'presence-room')).epoch).toBe(room!.message.epoch)
    expect((await broker.position(app, 'other')).epoch).not.toBe(other!.message.epoch)
  })

  it('reads a channel back from disk after it left the cache', async () => {
    const file = newFile()
    const clock = { now: 9_000_000 }
    const app = newTestAppId()
    const { broker } = await node(file, clock, { cacheIdleMs: 1000 })
    const outs = await broker.publish(
      app,
      [
        { channel: 'cold', data: 'a', id: 'p1' },
        { channel: 'cold', data: 'b' },
      ],
      OPTS,
    )
    clock.now += 5000
    broker.sweep()
    const cache = (broker as unknown as { cache: ChannelCache<ChannelWindow> }).cache
    expect(cache.peek(app, 'cold')).toBeUndefined()
    expect((await broker.history(app, 'cold', { limit: 10 })).messages).toEqual(outs.map((o) => o.message))
    const [dup] = await broker.publish(app, [{ channel: 'cold', data: 'again', id: 'p1' }], OPTS)
    expect(dup).toEqual({ message: outs[0]!.message, duplicate: true })
  })

  it('migration 0004 (no expires_at index, history_size) keeps the history a database of 0003 has', async () => {
    const file = newFile()
    // The migrations up to 0003 only: a database written by the previous release.
    const upTo3 = mkdtempSync(join(tmpdir(), 'herald-migrations-0003-'))
    dirs.push(upTo3)
    cpSync(migrationsFolder('sqlite'), upTo3, { recursive: true })
    const journalFile = join(upTo3, 'meta', '_journal.json')
    const journal = JSON.parse(readFileSync(journalFile, 'utf8')) as { entries: { tag: string }[] }
    journal.entries = journal.entries.filter((e) => e.tag < '0004')
    writeFileSync(journalFile, JSON.stringify(journal))
    const app = newTestAppId()
    const clock = { now: 3_000_000 }
    const db = new Database(file)
    migrate(drizzle({ client: db }), { migrationsFolder: upTo3 })
    expect(db.prepare("SELECT name FROM sqlite_master WHERE name = 'channel_history_expires_at_idx'").all()).toHaveLength(1)
    // What the 0003 broker wrote: 3 rows trimmed exactly, no history_size column.
    db.prepare("INSERT INTO channel_positions (app_id, channel, epoch, seq, ttl_ms, active_at) VALUES (?, 'old', 'e_old', 7, 3600000, ?)").run(app, clock.now)
    for (const seq of [5, 6, 7]) {
      const message = { channel: 'old', data: seq, seq, epoch: 'e_old', ts: clock.now, id: `m_${seq}` }
      db.prepare("INSERT INTO channel_history (app_id, channel, seq, expires_at, json) VALUES (?, 'old', ?, ?, ?)").run(
        app,
        seq,
        clock.now + 3_600_000,
        JSON.stringify(message),
      )
    }
    db.close()

    const { broker } = await node(file, clock) // applies 0004
    expect(rows(file, "SELECT name FROM sqlite_master WHERE name = 'channel_history_expires_at_idx'")).toEqual([])
    expect(rows(file, 'SELECT seq FROM channel_history WHERE app_id = ? ORDER BY seq', app)).toEqual([{ seq: 5 }, { seq: 6 }, { seq: 7 }])
    expect(rows(file, 'SELECT history_size AS size FROM channel_positions WHERE app_id = ?', app)).toEqual([{ size: null }])
    expect(await broker.position(app, 'old')).toEqual({ epoch: 'e_old', seq: 7 })
    expect((await broker.history(app, 'old', { limit: 10 })).messages.map((m) => m.data)).toEqual([5, 6, 7])
    const [next] = await broker.publish(app, [{ channel: 'old', data: 8 }], OPTS)
    expect(next!.message).toMatchObject({ epoch: 'e_old', seq: 8 })
    expect(rows(file, 'SELECT history_size AS size FROM channel_positions WHERE app_id = ?', app)).toEqual([{ size: 100 }])
  })

  it('writes the position row only when its newest row cannot tell: seq and epoch survive kill -9 all the same', async () => {
    const file = newFile()
    const app = newTestAppId()
    const a = await node(file)
    const [first] = await a.broker.publish(app, [{ channel: 'p', data: 0 }], OPTS)
    for (let i = 1; i <= 5; i++) await a.broker.publish(app, [{ channel: 'p', data: i }], OPTS)
    // One write for the new channel; the 5 appends after it leave the row as it was.
    expect(rows(file, 'SELECT seq FROM channel_positions WHERE app_id = ?', app)).toEqual([{ seq: 1 }])
    // historySize 0: a commit that deletes the newest row writes the position with it.
    const none = { historySize: 0, historyTtlSeconds: 3600 }
    for (let i = 1; i <= 20; i++) await a.broker.publish(app, [{ channel: 'empty', data: i }], none)
    expect(rows(file, "SELECT seq FROM channel_history WHERE app_id = ? AND channel = 'empty'", app)).toHaveLength(4) // 16 deleted at seq 16
    expect(rows(file, "SELECT seq FROM channel_positions WHERE app_id = ? AND channel = 'empty'", app)).toEqual([{ seq: 16 }])
    open.splice(open.indexOf(a.broker), 1) // no close: the process dies here

    const b = await node(file)
    expect(await b.broker.position(app, 'p')).toEqual({ epoch: first!.message.epoch, seq: 6 })
    expect((await b.broker.history(app, 'p', { limit: 100 })).messages.map((m) => m.data)).toEqual([0, 1, 2, 3, 4, 5])
    const [next] = await b.broker.publish(app, [{ channel: 'p', data: 6 }], OPTS)
    expect(next!.message).toMatchObject({ epoch: first!.message.epoch, seq: 7 })
    expect((await b.broker.position(app, 'empty')).seq).toBe(20)
    expect((await b.broker.history(app, 'empty', { limit: 100 })).messages).toEqual([])
    // A changed TTL or historySize is written with the next commit.
    await b.broker.publish(app, [{ channel: 'p', data: 7 }], { historySize: 50, historyTtlSeconds: 1800 })
    expect(rows(file, "SELECT seq, ttl_ms AS ttl, history_size AS size FROM channel_positions WHERE app_id = ? AND channel = 'p'", app)).toEqual([
      { seq: 8, ttl: 1_800_000, size: 50 },
    ])
  })

  it('the sweep keeps an uncached channel whose position row is older than its last publish, until that is past the TTL', async () => {
    const file = newFile()
    const clock = { now: 4_000_000 }
    const app = newTestAppId()
    const opts = { historySize: 100, historyTtlSeconds: 60 }
    const a = await node(file, clock)
    const [first] = await a.broker.publish(app, [{ channel: 'c', data: 1 }], opts)
    clock.now += 50_000
    await a.broker.publish(app, [{ channel: 'c', data: 2 }], opts)
    expect(rows(file, 'SELECT active_at AS at FROM channel_positions WHERE app_id = ?', app)).toEqual([{ at: 4_000_000 }])
    open.splice(open.indexOf(a.broker), 1) // kill -9: nothing more is written

    clock.now += 20_000 // 70 s after the position row's active_at, 20 s after the last publish
    const b = await node(file, clock)
    b.broker.sweep() // the channel is not cached: the sweep reads its newest row
    expect(rows(file, 'SELECT active_at AS at FROM channel_positions WHERE app_id = ?', app)).toEqual([{ at: 4_050_000 }])
    expect(await b.broker.position(app, 'c')).toEqual({ epoch: first!.message.epoch, seq: 2 })
    expect((await b.broker.history(app, 'c', { limit: 10 })).messages.map((m) => m.data)).toEqual([2])
    clock.now += 41_000 // the last publish is 61 s old: the history is gone
    ;(b.broker as unknown as { cache: ChannelCache<ChannelWindow> }).cache.delete(app, 'c')
    b.broker.sweep()
    expect(rows(file, 'SELECT seq FROM channel_positions WHERE app_id = ?', app)).toEqual([])
    expect(rows(file, 'SELECT seq FROM channel_history WHERE app_id = ?', app)).toEqual([])
  })

  it('writes the last activity of a channel leaving the cache when its position row is behind', async () => {
    const file = newFile()
    const clock = { now: 6_000_000 }
    const app = newTestAppId()
    const { broker } = await node(file, clock, { cacheIdleMs: 1000 })
    await broker.publish(app, [{ channel: 'c', data: 1 }], OPTS)
    clock.now += 10_000
    await broker.publish(app, [{ channel: 'c', data: 2 }], OPTS)
    expect(rows(file, 'SELECT active_at AS at FROM channel_positions WHERE app_id = ?', app)).toEqual([{ at: 6_000_000 }])
    clock.now += 5000
    broker.sweep()
    expect((broker as unknown as { cache: ChannelCache<ChannelWindow> }).cache.peek(app, 'c')).toBeUndefined()
    expect(rows(file, 'SELECT active_at AS at FROM channel_positions WHERE app_id = ?', app)).toEqual([{ at: 6_010_000 }])
  })

  it('removeApp deletes the app’s rows and nothing else', async () => {
    const file = newFile()
    const { broker } = await node(file)
    const gone = newTestAppId()
    const kept = newTestAppId()
    await broker.publish(gone, [{ channel: 'c', data: 1, id: 'i' }], OPTS)
    await broker.publish(kept, [{ channel: 'c', data: 2, id: 'i' }], OPTS)
    await broker.removeApp(gone)
    for (const table of ['channel_history', 'channel_idempotency', 'channel_positions']) {
      expect(rows(file, `SELECT count(*) AS n FROM ${table} WHERE app_id = ?`, gone)).toEqual([{ n: 0 }])
      expect(rows(file, `SELECT count(*) AS n FROM ${table} WHERE app_id = ?`, kept)).toEqual([{ n: 1 }])
    }
  })

  it('commits what is queued when closed (SIGTERM), so nothing acknowledged-to-be is lost', async () => {
    const file = newFile()
    const { broker } = await node(file)
    const app = newTestAppId()
    const pending = broker.publish(app, [{ channel: 'last', data: 'x' }], OPTS)
    await broker.close()
    open.splice(open.indexOf(broker), 1)
    await expect(pending).resolves.toHaveLength(1)
    expect(rows(file, 'SELECT seq FROM channel_history WHERE app_id = ?', app)).toEqual([{ seq: 1 }])
  })
})
