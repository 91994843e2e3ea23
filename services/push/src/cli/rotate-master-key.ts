#!/usr/bin/env node
import { randomBytes } from 'node:crypto'
import { chmodSync, existsSync, renameSync, unlinkSync, writeFileSync } from 'node:fs'
import { join, resolve } from 'node:path'
import { loadMasterKey, parseMasterKey } from '../apps/master-key.js'
import { openAppStore } from '../apps/open-store.js'
import { SecretBox } from '../apps/secret-box.js'

/**
 * Re-seals every stored app key secret (revoked keys too) under a new master key, all or
 * nothing, in one database transaction of the app store. Run it with every node stopped.
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

/** Re-seals through the app store the configuration names (one transaction, all or nothing). */
async function reseal(dataDir: string, databaseUrl: string | undefined, from: SecretBox, to: SecretBox): Promise<number> {
  if (!databaseUrl && !existsSync(join(dataDir, 'herald.db'))) throw new Error(`no database: ${join(dataDir, 'herald.db')} does not exist`)
  const store = await openAppStore({ dataDir, databaseUrl, secretBox: from })
  try {
    return await store.resealSecrets(to)
  } finally {
    await store.close()
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
    resealed = await reseal(dataDir, options.databaseUrl, from, to)
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
