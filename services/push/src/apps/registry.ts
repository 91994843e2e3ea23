import type { ControlEvent } from '../control/control-bus.js'
import { compileCapability, type CompiledCapability } from '../auth/capability.js'
import type { AppStore } from './app-store.js'
import type { App, AppKey } from './types.js'

/** A key ready for the hot path: secret bytes for HMAC and its compiled capability. */
export interface CachedKey {
  key: AppKey
  secretBytes: Uint8Array
  capability: CompiledCapability
}

interface Entry {
  app: App | null
  keys: Map<string, CachedKey>
  loadedAt: number
}

const NEGATIVE_TTL_MS = 1000
/** Bound of the keyId -> appId cache (it only ever holds real keys). */
const MAX_KEY_APPS = 100_000
const encoder = new TextEncoder()

/**
 * An in-memory view of the control plane for the hot path: apps and their keys, loaded
 * once per app and dropped when a control event says they changed (on any node).
 */
export class AppRegistry {
  private readonly entries = new Map<string, Promise<Entry>>()
  /** keyId -> appId. A key never moves to another app, so a hit is kept; a miss only briefly. */
  private readonly keyApps = new Map<string, Promise<string | null>>()

  constructor(private readonly store: AppStore) {}

  private load(appId: string): Promise<Entry> {
    const cached = this.entries.get(appId)
    if (cached) return cached
    const p = (async (): Promise<Entry> => {
      const app = await this.store.getApp(appId)
      const keys = new Map<string, CachedKey>()
      if (app) {
        for (const key of await this.store.listKeys(appId)) {
          keys.set(key.keyId, { key, secretBytes: encoder.encode(key.secret), capability: compileCapability(key.capability) })
        }
      }
      return { app, keys, loadedAt: Date.now() }
    })()
    this.entries.set(appId, p)
    p.then(
      (e) => {
        // Unknown apps are remembered briefly, so a flood of bad ids cannot hammer the database.
        if (!e.app) setTimeout(() => this.entries.get(appId) === p && this.entries.delete(appId), NEGATIVE_TTL_MS).unref()
      },
      () => this.entries.get(appId) === p && this.entries.delete(appId),
    )
    return p
  }

  async app(appId: string): Promise<App | null> {
    return (await this.load(appId)).app
  }

  /** A key of the app that is not revoked, or null. */
  async activeKey(appId: string, keyId: string): Promise<CachedKey | null> {
    const entry = await this.load(appId)
    const k = entry.app ? entry.keys.get(keyId) : undefined
    return k && !k.key.revokedAt ? k : null
  }

  /**
   * The app a keyId belongs to, or null when no app has it (the Pusher face knows only the key).
   * Whether the key is still live is {@link activeKey}'s answer, not this one's.
   */
  async appIdOfKey(keyId: string): Promise<string | null> {
    const known = this.keyApps.get(keyId)
    if (known) return known
    if (this.keyApps.size >= MAX_KEY_APPS) this.keyApps.clear()
    const p = this.store.appIdOfKey(keyId)
    this.keyApps.set(keyId, p)
    const forget = () => this.keyApps.get(keyId) === p && this.keyApps.delete(keyId)
    // Unknown keys are remembered briefly too, so a flood of bad keys cannot hammer the database.
    p.then((appId) => appId === null && setTimeout(forget, NEGATIVE_TTL_MS).unref(), forget)
    return p
  }

  /** Forgets everything (control events may have been missed): every app is reloaded on next use. */
  clear(): void {
    this.entries.clear()
  }

  /** Applies a control event: the app's cached view is reloaded on next use. */
  invalidate(event: ControlEvent): void {
    if (event.type === 'user.terminate') return
    this.entries.delete(event.appId)
  }
}
