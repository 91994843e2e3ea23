import { randomBytes } from 'node:crypto'
import { chmodSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs'
import { join } from 'node:path'
import type { AppStore } from './app-store.js'
import type { SecretBox } from './secret-box.js'

export interface MasterKey {
  /** 32 bytes, for {@link SecretBox}. */
  key: Buffer
  /** `env`: HERALD_MASTER_KEY; `file`: read from `<dataDir>/master.key`; `generated`: written there now. */
  source: 'env' | 'file' | 'generated'
  /** The file it was read from or written to (absent for `env`). */
  file?: string
}

/**
 * Parses a master key: 64 hex characters, or 32 bytes in base64url (43 characters, or 44
 * with `=` padding; standard base64 is accepted too). Throws a clear error otherwise.
 *
 * @example
 * parseMasterKey(randomBytes(32).toString('hex')).length === 32
 */
export function parseMasterKey(text: string, origin = 'HERALD_MASTER_KEY'): Buffer {
  const value = text.trim()
  if (/^[0-9a-fA-F]{64}$/.test(value)) return Buffer.from(value, 'hex')
  if (/^[A-Za-z0-9_\-+/]{43}=?$/.test(value)) {
    const key = Buffer.from(value.replace(/\+/g, '-').replace(/\//g, '_').replace(/=$/, ''), 'base64url')
    if (key.length === 32) return key
  }
  throw new Error(
    `${origin} must be 32 bytes written as 64 hex characters or 43 base64url characters ` +
      `(e.g. the output of \`openssl rand -hex 32\`); got ${value.length} characters`,
  )
}

/**
 * Finds the master key that seals app key secrets at rest: HERALD_MASTER_KEY when set, else
 * `<dataDir>/master.key`, which the first start generates (mode 0600, folder created if needed).
 * The file holds the key as 64 hex characters.
 *
 * @example
 * const { key, source } = loadMasterKey({ env: process.env.HERALD_MASTER_KEY, dataDir: config.dataDir })
 * const secretBox = new SecretBox(key)
 */
export function loadMasterKey(options: { env?: string | undefined; dataDir: string }): MasterKey {
  if (options.env !== undefined && options.env.trim() !== '') {
    return { key: parseMasterKey(options.env), source: 'env' }
  }
  const file = join(options.dataDir, 'master.key')
  let text: string | null = null
  try {
    text = readFileSync(file, 'utf8')
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code !== 'ENOENT') throw err
  }
  if (text !== null) return { key: parseMasterKey(text, file), source: 'file', file }

  mkdirSync(options.dataDir, { recursive: true })
  const key = randomBytes(32)
  try {
    // `wx`: never overwrite a key another process has just written.
    writeFileSync(file, key.toString('hex') + '\n', { mode: 0o600, flag: 'wx' })
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'EEXIST') return loadMasterKey(options)
    throw err
  }
  chmodSync(file, 0o600) // the umask may have narrowed it further, never widened: make it exact
  return { key, source: 'generated', file }
}

/** The text every node seals and opens to prove it holds the database's master key. */
const CHECK_TEXT = 'herald master key check v1'

/** Thrown at start when this node's master key is not the one the database was set up with. */
export class MasterKeyCheckError extends Error {
  override readonly name = 'MasterKeyCheckError'
  constructor() {
    super(
      'the master key in use (HERALD_MASTER_KEY, or <HERALD_DATA_DIR>/master.key when it is unset) is not the master key ' +
        'of this database: it does not open the check value sealed by the first node that started on it. ' +
        'Start every node with the same HERALD_MASTER_KEY; this node serves nothing until then',
    )
  }
}

/**
 * Fails fast, at start, when the master key is not the database's: the first node on an empty
 * database stores a fixed text sealed with its key; every node then must open it, or throws
 * {@link MasterKeyCheckError} (its message names HERALD_MASTER_KEY). A database from before the
 * check is first verified on the keys of its first app that has any
 * ({@link MasterKeyMismatchError}), so a wrong key never gets to write its own check value.
 *
 * @example
 * await store.migrate()
 * await verifyMasterKey(store, secretBox)
 */
export async function verifyMasterKey(store: Pick<AppStore, 'listApps' | 'listKeys' | 'claimMasterKeyCheck'>, box: SecretBox): Promise<void> {
  for (const app of await store.listApps()) {
    if ((await store.listKeys(app.id)).length > 0) break
  }
  const stored = await store.claimMasterKeyCheck(box.seal(CHECK_TEXT))
  let text: string
  try {
    text = box.open(stored)
  } catch {
    throw new MasterKeyCheckError()
  }
  if (text !== CHECK_TEXT) throw new MasterKeyCheckError()
}
