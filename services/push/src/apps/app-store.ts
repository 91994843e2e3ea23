import type { SecretBox } from './secret-box.js'
import type { AppSettings } from './settings.js'
import type { App, AppKey, Capability } from './types.js'

export interface NewKey {
  label?: string
  capability?: Capability
}

/**
 * The control plane: apps, their keys and the admin credential.
 * Drivers: `app-store-sqlite.ts` (embedded default), `app-store-postgres.ts` (shared by nodes).
 * Every call names its tenant (`appId`) explicitly. Key secrets are handed in and out in
 * plain text; a driver encrypts them at rest with the {@link SecretBox} it is given.
 */
export interface AppStore {
  readonly driver: 'sqlite' | 'postgres'
  /** Applies pending migrations. */
  migrate(): Promise<void>
  createApp(input: { name: string; settings: AppSettings }, key: NewKey): Promise<{ app: App; key: AppKey }>
  listApps(): Promise<App[]>
  getApp(appId: string): Promise<App | null>
  /** Returns the updated app, or null when it does not exist. */
  updateApp(appId: string, patch: { name?: string; settings?: AppSettings }): Promise<App | null>
  /** Deletes the app and its keys; false when it did not exist. */
  deleteApp(appId: string): Promise<boolean>
  createKey(appId: string, input: NewKey): Promise<AppKey | null>
  listKeys(appId: string): Promise<AppKey[]>
  getKey(appId: string, keyId: string): Promise<AppKey | null>
  /** Marks the key revoked (it stays listed). Returns the key, or null when unknown. */
  revokeKey(appId: string, keyId: string): Promise<AppKey | null>
  /**
   * Re-seals every stored key secret (revoked keys too) from the store's box to `next`, in one
   * transaction: all or nothing. Throws (changing nothing) when a secret does not open.
   * Returns how many were re-sealed. The store keeps its own box: reopen it to use `next`.
   */
  resealSecrets(next: SecretBox): Promise<number>
  getAdminTokenHash(): Promise<string | null>
  setAdminTokenHash(hash: string): Promise<void>
  /** Throws when the database cannot be reached (used by `/readyz`). */
  ping(): Promise<void>
  close(): Promise<void>
}
