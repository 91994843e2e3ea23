import { DELIVERY_LOG_SIZE, type DeliveryRecord, type OutboxEntry } from './outbox.js'

/** A `webhook_outbox` row as both SQL drivers read it (snake_case, ms as number or string). */
export interface OutboxRow {
  id: number | string
  app_id: string
  url: string
  body: string
  event_names: string
  created_at: number | string
  attempts: number
}

export function rowToEntry(r: OutboxRow): OutboxEntry {
  return {
    id: Number(r.id),
    appId: r.app_id,
    url: r.url,
    body: r.body,
    eventNames: JSON.parse(r.event_names) as string[],
    createdAt: Number(r.created_at),
    attempts: r.attempts,
  }
}

/** A `webhook_deliveries` row (drizzle's camelCase select). */
export interface DeliveryRow {
  id: number
  url: string
  eventNames: string
  outcome: string
  httpStatus: number | null
  error: string | null
  attempt: number
  latencyMs: number
  at: number
}

export function rowToDelivery(r: DeliveryRow): DeliveryRecord {
  return {
    id: r.id,
    url: r.url,
    eventNames: JSON.parse(r.eventNames) as string[],
    outcome: r.outcome as DeliveryRecord['outcome'],
    ...(r.httpStatus !== null ? { httpStatus: r.httpStatus } : {}),
    ...(r.error !== null ? { error: r.error } : {}),
    attempt: r.attempt,
    latencyMs: r.latencyMs,
    at: r.at,
  }
}

export { DELIVERY_LOG_SIZE }
