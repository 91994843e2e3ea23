import { HttpClient, type FetchLike } from './http.js'
import { DEFAULT_RETRY_POLICY } from './retry.js'
import type { Capability } from './token.js'
import { DEFAULT_TIMEOUT_MS } from './herald.js'

export interface HeraldAdminOptions {
  /** Base URL of the service, e.g. `https://push.example.com`. */
  url: string
  /** The operator's admin token (`HERALD_ADMIN_TOKEN` of the service). */
  adminToken: string
  /** Timeout of each attempt in milliseconds (default 10 000). */
  timeoutMs?: number
  /**
   * Extra attempts of reads and updates (GET, PATCH) on network errors, timeouts, 5xx and
   * 429 (default 3). Creates and deletes are sent once: a retry could create a second app
   * or key, or answer `not_found` for a delete that had worked.
   */
  retries?: number
  /** The `fetch` to use (default: the global one). */
  fetch?: FetchLike
}

/** An app's settings as the service reports them (docs/api.md, "Settings"). */
export interface AppSettings {
  anonymousSubscribe: boolean
  maxMessageBytes: number
  historySize: number
  historyTtlSeconds: number
  maxConnections: number
  publishRatePerSecond: number
  maxTokenTtlSeconds: number
  allowedOrigins: string[]
  clientEvents?: boolean
  webhooks?: Array<{ url: string; events?: string[] }>
  [setting: string]: unknown
}

/** An app (tenant). `connections` is filled in by create and list. */
export interface AdminApp {
  id: string
  name: string
  settings: AppSettings
  /** ISO 8601. */
  createdAt: string
  connections?: number
}

/** An app key. A revoked key stays listed, with `revokedAt`. */
export interface AdminKey {
  keyId: string
  secret: string
  label?: string
  capability: Capability
  createdAt: string
  revokedAt?: string
}

/** Live numbers of an app across all nodes. */
export interface AdminStats {
  connections: number
  channels: number
  subscriptions: number
  messagesPublished: number
  messagesDelivered: number
  nodes: number
  ts: number
}

export interface CreateAppOptions {
  /** Settings to change from the defaults; the others keep their default. */
  settings?: Partial<AppSettings>
}

export interface UpdateAppOptions {
  name?: string
  /** Only the settings given change. */
  settings?: Partial<AppSettings>
}

export interface CreateKeyOptions {
  label?: string
  /** What this key (and every token it signs) may do; default everything. */
  capability?: Capability
}

function required(value: unknown, field: string): string {
  if (typeof value !== 'string' || value.length === 0) throw new TypeError(`HeraldAdmin: ${field} is required`)
  return value
}

/**
 * The admin API of Herald (`/admin/v1`): apps and their keys. Errors are
 * {@link HeraldError}s, as with {@link Herald}: `unauthorized` for a wrong admin token,
 * `not_found` for an unknown app or key, `network` / `timeout` when the service is not reached.
 *
 * @example
 * const admin = new HeraldAdmin({ url: 'http://127.0.0.1:8080', adminToken: process.env.HERALD_ADMIN_TOKEN! })
 * const { app, key } = await admin.createApp('shop', { settings: { historySize: 500 } })
 * await admin.revokeKey(app.id, key.keyId)
 */
export class HeraldAdmin {
  private readonly http: HttpClient
  private readonly once: HttpClient

  constructor(options: HeraldAdminOptions) {
    const baseUrl = required(options?.url, 'options.url').replace(/\/+$/, '')
    const authorization = `Bearer ${required(options.adminToken, 'options.adminToken')}`
    const retries = options.retries ?? DEFAULT_RETRY_POLICY.retries
    const timeoutMs = options.timeoutMs ?? DEFAULT_TIMEOUT_MS
    if (!Number.isInteger(retries) || retries < 0) throw new TypeError('HeraldAdmin: options.retries must be an integer >= 0')
    if (!(timeoutMs > 0)) throw new TypeError('HeraldAdmin: options.timeoutMs must be > 0')
    const fetchFn: FetchLike = options.fetch ?? ((input, init) => fetch(input, init))
    const common = { baseUrl, authorization, timeoutMs, fetch: fetchFn }
    this.http = new HttpClient({ ...common, retry: { ...DEFAULT_RETRY_POLICY, retries } })
    this.once = new HttpClient({ ...common, retry: { ...DEFAULT_RETRY_POLICY, retries: 0 } })
  }

  /**
   * Every app, with its live connection count.
   *
   * @example
   * for (const app of await admin.listApps()) console.log(app.id, app.name, app.connections)
   */
  async listApps(): Promise<AdminApp[]> {
    const reply = await this.http.request<{ apps: AdminApp[] }>({ method: 'GET', path: '/admin/v1/apps' })
    return reply.apps
  }

  /**
   * Creates an app and its first key (the only time the two come together).
   *
   * @example
   * const { app, key } = await admin.createApp('shop') // key.keyId, key.secret
   */
  createApp(name: string, options: CreateAppOptions = {}): Promise<{ app: AdminApp; key: AdminKey }> {
    const body = { name, ...(options.settings !== undefined ? { settings: options.settings } : {}) }
    return this.once.request({ method: 'POST', path: '/admin/v1/apps', body })
  }

  /**
   * An app and all its keys, revoked ones included.
   *
   * @example
   * const { app, keys } = await admin.getApp('app_…')
   */
  getApp(appId: string): Promise<{ app: AdminApp; keys: AdminKey[] }> {
    return this.http.request({ method: 'GET', path: appPath(appId) })
  }

  /**
   * Changes the name and/or some settings; takes effect at once on every node.
   *
   * @example
   * await admin.updateApp('app_…', { settings: { publishRatePerSecond: 50 } })
   */
  async updateApp(appId: string, update: UpdateAppOptions): Promise<AdminApp> {
    const reply = await this.http.request<{ app: AdminApp }>({ method: 'PATCH', path: appPath(appId), body: update })
    return reply.app
  }

  /**
   * Deletes an app with its keys, channels, history and presence; its connections are closed.
   *
   * @example
   * await admin.deleteApp('app_…')
   */
  async deleteApp(appId: string): Promise<void> {
    await this.once.request({ method: 'DELETE', path: appPath(appId) })
  }

  /**
   * Creates another key of an app (rotation: create, move publishers, revoke the old one).
   *
   * @example
   * const key = await admin.createKey('app_…', { label: 'ci', capability: { 'chat:*': ['publish'] } })
   */
  async createKey(appId: string, options: CreateKeyOptions = {}): Promise<AdminKey> {
    const reply = await this.once.request<{ key: AdminKey }>({ method: 'POST', path: `${appPath(appId)}/keys`, body: options })
    return reply.key
  }

  /**
   * Revokes a key: it and every token it signed stop working at once, and their connections close.
   *
   * @example
   * await admin.revokeKey('app_…', 'key_…')
   */
  async revokeKey(appId: string, keyId: string): Promise<void> {
    await this.once.request({ method: 'DELETE', path: `${appPath(appId)}/keys/${encodeURIComponent(required(keyId, 'keyId'))}` })
  }

  /**
   * Live numbers of an app across all nodes.
   *
   * @example
   * const { connections, messagesPublished } = await admin.stats('app_…')
   */
  async stats(appId: string): Promise<AdminStats> {
    const reply = await this.http.request<{ stats: AdminStats }>({ method: 'GET', path: `${appPath(appId)}/stats` })
    return reply.stats
  }
}

function appPath(appId: string): string {
  return `/admin/v1/apps/${encodeURIComponent(required(appId, 'appId'))}`
}
