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
const encoder = new TextEncoder()

/**
 * An in-memory view of the control plane for the hot path: apps and their keys, loaded
 * once per app and dropped when a control event says they changed (on any node).
 */
export class AppRegistry {
  private readonly entries = new Map<string, Promise<Entry>>()

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
