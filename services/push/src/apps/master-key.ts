import { randomBytes } from 'node:crypto'
import { chmodSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs'
import { join } from 'node:path'
import type { AppStore } from './app-store.js'

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

/**
 * Fails fast, at start, when the master key does not open the stored secrets: decrypts the
 * keys of the first app that has any (every app is created with a key, so this is one or two
 * queries). Throws {@link MasterKeyMismatchError}, whose message names HERALD_MASTER_KEY.
 *
 * @example
 * await store.migrate()
 * await verifyMasterKey(store)
 */
export async function verifyMasterKey(store: Pick<AppStore, 'listApps' | 'listKeys'>): Promise<void> {
  for (const app of await store.listApps()) {
    if ((await store.listKeys(app.id)).length > 0) return
  }
}
