import { randomBytes } from 'node:crypto'
import { existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import Database from 'better-sqlite3'
import { afterAll, describe, expect, it } from 'vitest'
import { DatabaseFileError, lockDatabaseFile, openSqliteFile } from './sqlite-file.js'
import { withTmpfs } from './tmpfs-fixture.js'

const dirs: string[] = []
afterAll(() => {
  for (const d of dirs) rmSync(d, { recursive: true, force: true })
})

function newFile(): string {
  const dir = mkdtempSync(join(tmpdir(), 'herald-sqlite-file-'))
  dirs.push(dir)
  return join(dir, 'herald.db')
}

function refusal(fn: () => unknown): DatabaseFileError {
  try {
    fn()
  } catch (err) {
    expect(err).toBeInstanceOf(DatabaseFileError)
    return err as DatabaseFileError
  }
  throw new Error('expected a DatabaseFileError')
}

describe('openSqliteFile', () => {
  it('creates the file in WAL mode', () => {
    const file = newFile()
    const db = openSqliteFile(file)
    expect(db.pragma('journal_mode', { simple: true })).toBe('wal')
    expect(db.pragma('synchronous', { simple: true })).toBe(1) // NORMAL
    db.close()
    const full = openSqliteFile(file, { synchronous: 'full' })
    expect(full.pragma('synchronous', { simple: true })).toBe(2)
    full.close()
  })

  it('refuses a file that is not a database, naming it, and leaves it byte for byte as it was', () => {
    const file = newFile()
    const garbage = randomBytes(16_384)
    writeFileSync(file, garbage)
    const err = refusal(() => openSqliteFile(file))
    expect(err.reason).toBe('corrupt')
    expect(err.message).toContain(file)
    expect(err.message).toMatch(/not a valid SQLite database or is corrupt/)
    expect(readFileSync(file).equals(garbage)).toBe(true)
    expect(existsSync(file + '-wal')).toBe(false)
  })

  it('refuses a file whose pages are corrupt', () => {
    const file = newFile()
    const db = openSqliteFile(file)
    db.exec('CREATE TABLE t (x TEXT); CREATE INDEX t_x ON t (x)')
    const insert = db.prepare('INSERT INTO t VALUES (?)')
    for (let i = 0; i < 2000; i++) insert.run('row-' + i)
    db.pragma('wal_checkpoint(TRUNCATE)')
    db.close()
    const bytes = readFileSync(file)
    // Keep the 100-byte header and page 1 (the schema), scribble over everything after it.
    const pageSize = bytes.readUInt16BE(16)
    randomBytes(bytes.length - pageSize).copy(bytes, pageSize)
    writeFileSync(file, bytes)
    const err = refusal(() => {
      const again = openSqliteFile(file)
      try {
        again.prepare('SELECT count(*) FROM t WHERE x > ?').get('row-5')
      } finally {
        again.close()
      }
    })
    expect(err.reason).toBe('corrupt')
    expect(readFileSync(file).equals(bytes)).toBe(true)
  })

  it('refuses a file another process holds a write lock on, after its busy timeout', () => {
    const file = newFile()
    openSqliteFile(file).close()
    const other = new Database(file)
    other.exec('CREATE TABLE t (x)')
    other.exec('BEGIN EXCLUSIVE')
    other.prepare('INSERT INTO t VALUES (1)').run()
    try {
      const err = refusal(() => openSqliteFile(file, { busyTimeoutMs: 50 }))
      expect(err.reason).toBe('locked')
      expect(err.message).toContain(file)
      expect(err.message).toMatch(/locked by another process/)
    } finally {
      other.exec('ROLLBACK')
      other.close()
    }
  })

  it('refuses a file on a read-only file system, naming it', async () => {
    await withTmpfs(4 << 20, async (dir, remount) => {
      const file = join(dir, 'herald.db')
      const db = openSqliteFile(file)
      db.exec('CREATE TABLE t (x)')
      db.close()
      const before = readFileSync(file)
      remount('ro')
      const err = refusal(() => openSqliteFile(file))
      expect(err.reason).toBe('read-only')
      expect(err.message).toContain(file)
      expect(readFileSync(file).equals(before)).toBe(true)
    })
  })
})

describe('lockDatabaseFile', () => {
  it('lets one process (one holder) use a database file at a time', () => {
    const file = newFile()
    const release = lockDatabaseFile(file)
    const err = refusal(() => lockDatabaseFile(file))
    expect(err.reason).toBe('locked')
    expect(err.message).toContain(file)
    expect(err.message).toMatch(/another Herald process/)
    release()
    lockDatabaseFile(file)()
  })
})
