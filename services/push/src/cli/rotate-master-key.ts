#!/usr/bin/env node
import { randomBytes } from 'node:crypto'
import { chmodSync, existsSync, renameSync, unlinkSync, writeFileSync } from 'node:fs'
import { join, resolve } from 'node:path'
import { loadMasterKey, parseMasterKey } from '../apps/master-key.js'
import { SecretBox } from '../apps/secret-box.js'

/**
 * Re-seals every stored app key secret (revoked keys too) and the database's master key check
 * under a new master key, all or nothing, in one database transaction. Run it with every node stopped.
 *
 * Environment (the node's own, plus one):
 * - `HERALD_DATA_DIR`, `HERALD_DATABASE_URL`, `HERALD_MASTER_KEY`: as for the node; they locate
 *   the store and the current master key (`<data dir>/master.key` when HERALD_MASTER_KEY is unset).
 * - `HERALD_NEW_MASTER_KEY`: the new key (64 hex or 43 base64url characters); unset: generated.
 *
 * With a key file, the new key replaces `master.key` (0600) once the database is committed.
 * With HERALD_MASTER_KEY, the new key is printed once: set it on every node before starting them.
 *
 * @example
 * HERALD_DATA_DIR=/var/lib/herald node services/push/dist/cli/rotate-master-key.js
 */
export interface RotateOptions {
  dataDir: string
  databaseUrl?: string
  masterKey?: string
  newMasterKey?: string
  log?: (line: string) => void
}

export interface RotateResult {
  resealed: number
  /** Where the new key went: the key file, or nowhere (printed; the caller must set HERALD_MASTER_KEY). */
  file?: string
  newKeyHex: string
}

interface Row {
  key_id: string
  secret_enc: string
}

/** Opens every row with the old box and seals it with the new one; throws (changing nothing) if any row does not open. */
function reseal(rows: Row[], from: SecretBox, to: SecretBox): Row[] {
  return rows.map((row) => {
    let plain: string
    try {
      plain = from.open(row.secret_enc)
    } catch {
      throw new Error(`the current master key does not open the secret of ${row.key_id}: nothing was changed`)
    }
    return { key_id: row.key_id, secret_enc: to.seal(plain) }
  })
}

async function resealSqlite(file: string, from: SecretBox, to: SecretBox): Promise<number> {
  const { default: Database } = await import('better-sqlite3')
  const db = new Database(file, { fileMustExist: true })
  try {
    db.pragma('busy_timeout = 5000')
    const run = db.transaction(() => {
      const rows = db.prepare('SELECT key_id, secret_enc FROM app_keys').all() as Row[]
      const update = db.prepare('UPDATE app_keys SET secret_enc = ? WHERE key_id = ?')
      for (const row of reseal(rows, from, to)) update.run(row.secret_enc, row.key_id)
      const hasCheck = db.prepare("SELECT 1 FROM sqlite_master WHERE type = 'table' AND name = 'master_key_check'").get() !== undefined
      if (hasCheck) {
        const checks = db.prepare("SELECT 'master key check' AS key_id, sealed AS secret_enc FROM master_key_check").all() as Row[]
        const updateCheck = db.prepare('UPDATE master_key_check SET sealed = ?')
        for (const row of reseal(checks, from, to)) updateCheck.run(row.secret_enc)
      }
      return rows.length
    })
    return run.immediate()
  } finally {
    db.close()
  }
}

async function resealPostgres(url: string, from: SecretBox, to: SecretBox): Promise<number> {
  const { default: pg } = await import('pg')
  const client = new pg.Client({ connectionString: url })
  await client.connect()
  try {
    await client.query('BEGIN')
    const { rows } = await client.query<Row>('SELECT key_id, secret_enc FROM app_keys FOR UPDATE')
    for (const row of reseal(rows, from, to)) await client.query('UPDATE app_keys SET secret_enc = $1 WHERE key_id = $2', [row.secret_enc, row.key_id])
    const { rows: exists } = await client.query<{ ok: boolean }>("SELECT to_regclass('master_key_check') IS NOT NULL AS ok")
    if (exists[0]?.ok) {
      const { rows: checks } = await client.query<Row>("SELECT 'master key check' AS key_id, sealed AS secret_enc FROM master_key_check FOR UPDATE")
      for (const row of reseal(checks, from, to)) await client.query('UPDATE master_key_check SET sealed = $1', [row.secret_enc])
    }
    await client.query('COMMIT')
    return rows.length
  } catch (err) {
    await client.query('ROLLBACK').catch(() => {})
    throw err
  } finally {
    await client.end()
  }
}

/** Rotates the master key of one store; see the file's comment. */
export async function rotateMasterKey(options: RotateOptions): Promise<RotateResult> {
  const log = options.log ?? (() => {})
  const dataDir = resolve(options.dataDir)
  if (!options.masterKey && !existsSync(join(dataDir, 'master.key'))) {
    throw new Error(`no master key: ${join(dataDir, 'master.key')} does not exist and HERALD_MASTER_KEY is unset`)
  }
  const current = loadMasterKey({ env: options.masterKey, dataDir })
  const next = options.newMasterKey ? parseMasterKey(options.newMasterKey, 'HERALD_NEW_MASTER_KEY') : randomBytes(32)
  if (next.equals(current.key)) throw new Error('the new master key is the current one')
  const from = new SecretBox(current.key)
  const to = new SecretBox(next)

  // With a key file, write the new key beside it first: if we stop after the commit, it is there.
  const pending = current.file ? current.file + '.new' : undefined
  if (pending) {
    writeFileSync(pending, next.toString('hex') + '\n', { mode: 0o600 })
    chmodSync(pending, 0o600)
  }
  let resealed: number
  try {
    resealed = options.databaseUrl ? await resealPostgres(options.databaseUrl, from, to) : await resealSqlite(join(dataDir, 'herald.db'), from, to)
  } catch (err) {
    if (pending && existsSync(pending)) unlinkSync(pending)
    throw err
  }
  log(`re-sealed ${resealed} key secret(s) under the new master key`)
  if (pending) {
    renameSync(pending, current.file!)
    log(`wrote the new master key to ${current.file} (0600); back it up with the database`)
    return { resealed, file: current.file, newKeyHex: next.toString('hex') }
  }
  return { resealed, newKeyHex: next.toString('hex') }
}

const isMain = process.argv[1] !== undefined && import.meta.url === new URL(`file://${resolve(process.argv[1])}`).href
if (isMain) {
  const env = process.env
  try {
    const result = await rotateMasterKey({
      dataDir: env.HERALD_DATA_DIR ?? './data',
      databaseUrl: env.HERALD_DATABASE_URL || undefined,
      masterKey: env.HERALD_MASTER_KEY || undefined,
      newMasterKey: env.HERALD_NEW_MASTER_KEY || undefined,
      log: (line) => process.stderr.write(line + '\n'),
    })
    if (!result.file) {
      process.stdout.write(`\nNew master key (shown once; set HERALD_MASTER_KEY to it on every node, then start them):\n${result.newKeyHex}\n\n`)
    }
  } catch (err) {
    process.stderr.write(`rotate-master-key: ${(err as Error).message}\n`)
    process.exit(1)
  }
}
