import { fileURLToPath } from 'node:url'
import type { SecretBox } from './secret-box.js'
import { AppSettingsSchema, type AppSettings } from './settings.js'
import type { App, AppKey, Capability } from './types.js'

/**
 * Thrown when a stored key secret cannot be decrypted: the master key in use is not the one
 * the secrets were sealed with.
 */
export class MasterKeyMismatchError extends Error {
  override readonly name = 'MasterKeyMismatchError'
  constructor(readonly keyId: string) {
    super(
      `cannot decrypt the secret of app key ${keyId}: the master key in use (HERALD_MASTER_KEY, ` +
        `or <HERALD_DATA_DIR>/master.key when it is unset) is not the one this database's secrets were sealed with`,
    )
  }
}

/**
 * The folder of the drizzle-kit migrations of a driver, `<repo>/migrations/<driver>`.
 * Resolved from this module's location, so it is the same from `src/apps` (vitest) and `dist/apps`.
 */
export function migrationsFolder(driver: 'sqlite' | 'postgres'): string {
  return fileURLToPath(new URL(`../../../../migrations/${driver}`, import.meta.url))
}

/** Reads stored settings, filling in defaults of settings added since they were written. */
export function readSettings(stored: unknown): AppSettings {
  return AppSettingsSchema.strip().parse(stored ?? {})
}

export function toIso(value: string | Date): string {
  return typeof value === 'string' ? value : value.toISOString()
}

export function rowToApp(row: { id: string; name: string; settings: unknown; createdAt: string | Date }): App {
  return { id: row.id, name: row.name, settings: readSettings(row.settings), createdAt: toIso(row.createdAt) }
}

export interface KeyRow {
  keyId: string
  appId: string
  secretEnc: string
  label: string | null
  capability: Capability
  createdAt: string | Date
  revokedAt: string | Date | null
}

/** Decrypts a key row; throws {@link MasterKeyMismatchError} when the secret does not open. */
export function rowToKey(row: KeyRow, box: SecretBox): AppKey {
  let secret: string
  try {
    secret = box.open(row.secretEnc)
  } catch {
    throw new MasterKeyMismatchError(row.keyId)
  }
  const key: AppKey = {
    appId: row.appId,
    keyId: row.keyId,
    secret,
    capability: row.capability,
    createdAt: toIso(row.createdAt),
  }
  if (row.label !== null) key.label = row.label
  if (row.revokedAt !== null) key.revokedAt = toIso(row.revokedAt)
  return key
}

/** The id of the single admin credential row. */
export const ADMIN_CREDENTIAL_ID = 'admin'

/** Opens a sealed secret with `from` and seals it with `to`; names the key when it does not open. */
export function resealSecret(keyId: string, sealed: string, from: SecretBox, to: SecretBox): string {
  let plain: string
  try {
    plain = from.open(sealed)
  } catch {
    throw new Error(`the current master key does not open the secret of ${keyId}: nothing was changed`)
  }
  return to.seal(plain)
}
