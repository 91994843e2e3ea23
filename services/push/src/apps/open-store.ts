import { join } from 'node:path'
import type { AppStore } from './app-store.js'
import type { SecretBox } from './secret-box.js'

export interface OpenStoreOptions {
  /** The data dir: the embedded store is `<dataDir>/herald.db`. */
  dataDir: string
  /** `HERALD_DATABASE_URL`: a `postgres://` URL; unset: the embedded SQLite file. */
  databaseUrl?: string | undefined
  secretBox: SecretBox
}

/**
 * Opens the app store the configuration names (not migrated): PostgreSQL for a `postgres://`
 * HERALD_DATABASE_URL, the embedded SQLite file otherwise. One place picks the driver, for the
 * node and the CLI tools.
 */
export async function openAppStore(options: OpenStoreOptions): Promise<AppStore> {
  const { databaseUrl, secretBox } = options
  if (!databaseUrl) {
    const { createSqliteAppStore } = await import('./app-store-sqlite.js')
    return createSqliteAppStore({ file: join(options.dataDir, 'herald.db'), secretBox })
  }
  if (!/^postgres(ql)?:\/\//.test(databaseUrl)) throw new Error('HERALD_DATABASE_URL must be a postgres:// URL (leave it unset for the embedded SQLite file)')
  const { createPostgresAppStore } = await import('./app-store-postgres.js')
  return createPostgresAppStore({ url: databaseUrl, secretBox })
}
