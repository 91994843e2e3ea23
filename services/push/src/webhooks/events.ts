import type { WebhookEventName } from '../apps/settings.js'

/** The events of the contract ("Webhooks"), as they appear in a POSTed body's `events`. */
export type WebhookEvent =
  | { name: 'channel_occupied'; channel: string }
  | { name: 'channel_vacated'; channel: string }
  | { name: 'member_added'; channel: string; user_id: string }
  | { name: 'member_removed'; channel: string; user_id: string }
  | { name: 'client_event'; channel: string; event: string; data: string; socket_id: string; user_id?: string }
  | { name: 'cache_miss'; channel: string }
  | { name: 'subscription_count'; channel: string; subscription_count: number }

/** The body of one POST. */
export interface WebhookBody {
  time_ms: number
  events: WebhookEvent[]
}

/** Whether a webhook (its `events` filter, all when absent) wants an event. */
export function wants(filter: readonly WebhookEventName[] | undefined, event: WebhookEvent): boolean {
  return filter === undefined || filter.includes(event.name)
}
