import { ApiError } from './api-error.js'
import { requestJson } from './http.js'
import type { App, AppKey, AppSettings, AppStats, WebhookDelivery } from './types.js'

/**
 * The admin API of CONTRACT.md, with the admin token as a Bearer header.
 * The token is only ever sent in that header, never in a URL.
 * @example const apps = await new AdminApi(token).listApps()
 */
export class AdminApi {
  readonly #headers: Record<string, string>

  readonly #onUnauthorized: ((err: ApiError) => void) | undefined

  /** `onUnauthorized` runs when the server stops accepting the token (401), e.g. after it was changed. */
  constructor(token: string, options: { baseUrl?: string; onUnauthorized?: (err: ApiError) => void } = {}) {
    this.#headers = { authorization: `Bearer ${token}`, accept: 'application/json' }
    this.baseUrl = options.baseUrl ?? ''
    this.#onUnauthorized = options.onUnauthorized
  }

  readonly baseUrl: string

  async #call<T>(method: string, path: string, body?: unknown): Promise<T> {
    try {
      return await requestJson<T>(method, this.baseUrl + path, this.#headers, body)
    } catch (err) {
      if (err instanceof ApiError && err.status === 401) this.#onUnauthorized?.(err)
      throw err
    }
  }

  async listApps(): Promise<App[]> {
    return (await this.#call<{ apps: App[] }>('GET', '/admin/v1/apps')).apps
  }

  createApp(name: string, settings?: Partial<AppSettings>): Promise<{ app: App; key: AppKey }> {
    return this.#call('POST', '/admin/v1/apps', settings ? { name, settings } : { name })
  }

  getApp(appId: string): Promise<{ app: App; keys: AppKey[] }> {
    return this.#call('GET', `/admin/v1/apps/${encodeURIComponent(appId)}`)
  }

  async updateApp(appId: string, patch: { name?: string; settings?: Partial<AppSettings> }): Promise<App> {
    return (await this.#call<{ app: App }>('PATCH', `/admin/v1/apps/${encodeURIComponent(appId)}`, patch)).app
  }

  deleteApp(appId: string): Promise<void> {
    return this.#call('DELETE', `/admin/v1/apps/${encodeURIComponent(appId)}`)
  }

  async createKey(appId: string, label?: string): Promise<AppKey> {
    const body = label ? { label } : {}
    return (await this.#call<{ key: AppKey }>('POST', `/admin/v1/apps/${encodeURIComponent(appId)}/keys`, body)).key
  }

  revokeKey(appId: string, keyId: string): Promise<void> {
    return this.#call('DELETE', `/admin/v1/apps/${encodeURIComponent(appId)}/keys/${encodeURIComponent(keyId)}`)
  }

  async stats(appId: string): Promise<AppStats> {
    return (await this.#call<{ stats: AppStats }>('GET', `/admin/v1/apps/${encodeURIComponent(appId)}/stats`)).stats
  }

  /** The latest webhook delivery attempts, newest first, and how many POSTs wait in the outbox. */
  webhookDeliveries(appId: string, limit = 50): Promise<{ deliveries: WebhookDelivery[]; pending: number }> {
    return this.#call('GET', `/admin/v1/apps/${encodeURIComponent(appId)}/webhooks/deliveries?limit=${limit}`)
  }

  /** Queues a test POST to each of the app's webhooks; resolves with how many. */
  async testWebhooks(appId: string): Promise<number> {
    return (await this.#call<{ queued: number }>('POST', `/admin/v1/apps/${encodeURIComponent(appId)}/webhooks/test`)).queued
  }
}
