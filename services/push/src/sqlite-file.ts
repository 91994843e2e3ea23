import { accessSync, constants, existsSync, mkdirSync } from 'node:fs'
import { dirname } from 'node:path'
import Database from 'better-sqlite3'

/** `synchronous` of the embedded database: `normal` survives a crash of the process, `full` also a crash of the OS. */
export type SqliteSynchronous = 'normal' | 'full'

export interface SqliteFileOptions {
  synchronous?: SqliteSynchronous
  /** How long a write waits for a lock held by another connection (default 5000 ms). */
  busyTimeoutMs?: number
}

/**
 * A database file Herald cannot use: locked, read-only, corrupt, unreadable. The message names
 * the file and the reason; Herald never changes (let alone truncates) a file it refused.
 */
export class DatabaseFileError extends Error {
  override readonly name = 'DatabaseFileError'
  constructor(
    readonly file: string,
    readonly reason: 'locked' | 'read-only' | 'corrupt' | 'unreadable' | 'full',
    message: string,
    options?: { cause?: unknown },
  ) {
    super(message, options)
  }
}

/**
 * Opens (creating when missing) the embedded SQLite database in WAL mode with foreign keys on,
 * and checks it can be read and written: a file that cannot fails here, with a
 * {@link DatabaseFileError} naming it, before anything is written to it.
 *
 * @example
 * const db = openSqliteFile(join(dataDir, 'herald.db'), { synchronous: 'normal' })
 */
export function openSqliteFile(file: string, options: SqliteFileOptions = {}): Database.Database {
  if (file !== ':memory:') checkAccess(file)
  let db: Database.Database | null = null
  try {
    db = new Database(file)
    db.pragma(`busy_timeout = ${Math.max(0, Math.floor(options.busyTimeoutMs ?? 5000))}`)
    // The first statements read the header and take locks: a foreign, corrupt or locked file fails here.
    db.pragma('journal_mode = WAL')
    db.pragma(`synchronous = ${options.synchronous === 'full' ? 'FULL' : 'NORMAL'}`)
    db.pragma('foreign_keys = ON')
    db.prepare('SELECT count(*) FROM sqlite_master').get()
    // Reads every page once (no index cross-check): a file damaged past its header is refused at start, not mid-publish.
    const check = db.pragma('quick_check(1)', { simple: true })
    if (check !== 'ok') throw Object.assign(new Error(`quick_check: ${String(check)}`), { code: 'SQLITE_CORRUPT' })
    // A write lock, released at once and writing nothing: a file someone else holds fails now, not on the first publish.
    db.exec('BEGIN IMMEDIATE')
    db.exec('ROLLBACK')
    return db
  } catch (err) {
    if (db?.open) db.close()
    throw describeSqliteError(file, err)
  }
}

/** Turns a SQLite error about the file into a {@link DatabaseFileError}; other errors are returned as they are. */
export function describeSqliteError(file: string, err: unknown): unknown {
  if (err instanceof DatabaseFileError) return err
  const code = (err as { code?: unknown }).code
  if (typeof code !== 'string' || !code.startsWith('SQLITE_')) return err
  const detail = `${code}: ${(err as Error).message}`
  if (code.startsWith('SQLITE_BUSY') || code.startsWith('SQLITE_LOCKED')) {
    return new DatabaseFileError(
      file,
      'locked',
      `database file ${file} is locked by another process (${detail}): stop it, or give this node its own HERALD_DATA_DIR`,
      { cause: err },
    )
  }
  if (code.startsWith('SQLITE_READONLY') || code === 'SQLITE_PERM') {
    return new DatabaseFileError(
      file,
      'read-only',
      `database file ${file} is read-only (${detail}): Herald needs to write it, its -wal and -shm files and its folder`,
      { cause: err },
    )
  }
  if (code.startsWith('SQLITE_CORRUPT') || code === 'SQLITE_NOTADB') {
    return new DatabaseFileError(
      file,
      'corrupt',
      `database file ${file} is not a valid SQLite database or is corrupt (${detail}); Herald left it untouched: restore it from a backup, or move it away to start empty`,
      { cause: err },
    )
  }
  if (code.startsWith('SQLITE_FULL')) {
    return new DatabaseFileError(file, 'full', `the disk holding database file ${file} is full (${detail})`, { cause: err })
  }
  if (code.startsWith('SQLITE_CANTOPEN') || code.startsWith('SQLITE_IOERR')) {
    return new DatabaseFileError(
      file,
      'unreadable',
      `database file ${file} cannot be opened or read (${detail}): check the path, its permissions and the disk`,
      { cause: err },
    )
  }
  return err
}

/** Refuses a file (or folder) that cannot be written before SQLite opens it read-only behind our back. */
function checkAccess(file: string): void {
  const dir = dirname(file)
  try {
    mkdirSync(dir, { recursive: true })
  } catch (err) {
    throw new DatabaseFileError(file, 'unreadable', `cannot create the folder of database file ${file}: ${(err as Error).message}`, { cause: err })
  }
  for (const path of existsSync(file) ? [file, dir] : [dir]) {
    try {
      accessSync(path, constants.R_OK | constants.W_OK)
    } catch (err) {
      const code = (err as NodeJS.ErrnoException).code
      const what = path === file ? `database file ${file}` : `the folder of database file ${file} (${dir})`
      if (code === 'EROFS' || code === 'EACCES' || code === 'EPERM') {
        throw new DatabaseFileError(
          file,
          'read-only',
          `${what} is read-only (${code}): Herald needs to write the database, its -wal and -shm files and its folder`,
          { cause: err },
        )
      }
      throw new DatabaseFileError(file, 'unreadable', `${what} cannot be accessed (${code ?? (err as Error).message})`, { cause: err })
    }
  }
}

/**
 * Holds `<file>.lock` for the life of the process, so two Herald processes never serve the
 * same database file (their in-process positions would collide). The lock is a SQLite file in
 * exclusive locking mode: the OS drops it when the process ends, even by `kill -9`.
 * Throws a {@link DatabaseFileError} (`locked`) when another process holds it.
 *
 * @example
 * const release = lockDatabaseFile(join(dataDir, 'herald.db'))
 * // …
 * release()
 */
export function lockDatabaseFile(file: string): () => void {
  checkAccess(file)
  const lockFile = `${file}.lock`
  let db: Database.Database | null = null
  try {
    db = new Database(lockFile)
    db.pragma('busy_timeout = 0')
    db.pragma('locking_mode = EXCLUSIVE')
    db.pragma('journal_mode = MEMORY')
    db.exec('CREATE TABLE IF NOT EXISTS holder (pid INTEGER NOT NULL)')
    db.exec('BEGIN EXCLUSIVE')
    db.prepare('DELETE FROM holder').run()
    db.prepare('INSERT INTO holder (pid) VALUES (?)').run(process.pid)
    db.exec('COMMIT')
  } catch (err) {
    if (db?.open) db.close()
    const code = (err as { code?: unknown }).code
    if (typeof code === 'string' && (code.startsWith('SQLITE_BUSY') || code.startsWith('SQLITE_LOCKED'))) {
      throw new DatabaseFileError(
        file,
        'locked',
        `database file ${file} is in use by another Herald process (it holds ${lockFile}): stop it, or give this node its own HERALD_DATA_DIR`,
        { cause: err },
      )
    }
    throw describeSqliteError(lockFile, err)
  }
  const held = db
  return () => {
    if (held.open) held.close()
  }
}
