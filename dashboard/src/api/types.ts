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
