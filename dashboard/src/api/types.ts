/** App settings with the contract's names (see CONTRACT.md, "App settings"). */
export interface AppSettings {
  anonymousSubscribe: boolean
  maxMessageBytes: number
  historySize: number
  historyTtlSeconds: number
  maxConnections: number
  publishRatePerSecond: number
  maxTokenTtlSeconds: number
  allowedOrigins: string[]
  /** Pusher client events (`client-*`) are accepted from clients. */
  clientEvents: boolean
  /** Where the app's webhooks are POSTed (docs/webhooks.md), at most 10. */
  webhooks: Webhook[]
}

/** One webhook: a URL and the events it gets (all when `events` is absent). */
export interface Webhook {
  url: string
  events?: string[]
}

/** One attempt of the app's webhook delivery log (`GET /admin/v1/apps/:appId/webhooks/deliveries`). */
export interface WebhookDelivery {
  id: number
  at: number
  url: string
  events: string[]
  outcome: 'delivered' | 'retrying' | 'dropped'
  status?: number
  error?: string
  attempt: number
  latencyMs: number
}

/** An app as the admin API returns it; `connections` is only on list replies. */
export interface App {
  id: string
  name: string
  settings: AppSettings
  createdAt: string
  connections?: number
}

export interface AppKey {
  keyId: string
  secret: string
  label?: string
  createdAt: string
  revokedAt?: string
}

/** `GET /admin/v1/apps/:appId/stats`; the message counters are cumulative. */
export interface AppStats {
  connections: number
  channels: number
  messagesPublished: number
  messagesDelivered: number
  nodes: number
  ts: number
}
