import type { Webhook } from '../api/types.js'

/** The webhook events of the contract, with what each one means (docs/webhooks.md). */
export const WEBHOOK_EVENTS = [
  { name: 'channel_occupied', help: 'A channel got its first subscriber (anywhere in the cluster).' },
  { name: 'channel_vacated', help: 'A channel lost its last subscriber.' },
  { name: 'member_added', help: 'A user joined a presence channel (once per user).' },
  { name: 'member_removed', help: 'A user left a presence channel (its last connection).' },
  { name: 'client_event', help: 'A Pusher client sent a client-* event.' },
  { name: 'cache_miss', help: 'A subscriber of a cache channel found no cached event.' },
  { name: 'subscription_count', help: "A channel's subscriber count changed." },
] as const

export const MAX_WEBHOOKS = 10

/** One row of the form: `all` means no `events` filter; `id` only keys the row on screen. */
export interface WebhookDraft {
  id: number
  url: string
  all: boolean
  events: string[]
}

let nextRowId = 1

/** A new empty row (all events). */
export function newWebhookDraft(): WebhookDraft {
  return { id: nextRowId++, url: '', all: true, events: [] }
}

export function toWebhookDrafts(webhooks: readonly Webhook[]): WebhookDraft[] {
  return webhooks.map((w) => ({ id: nextRowId++, url: w.url, all: w.events === undefined, events: w.events ? [...w.events] : [] }))
}

/** What a row list would save, to compare with the saved setting. */
export function draftsKey(rows: readonly WebhookDraft[]): string {
  return JSON.stringify(rows.map((r) => [r.url, r.all, r.all ? [] : [...r.events].sort()]))
}

export type WebhooksValidation = { ok: true; webhooks: Webhook[] } | { ok: false; errors: Record<number, { url?: string; events?: string }>; message?: string }

/**
 * The same rules as the service (an http(s) URL of at most 2048 characters, at least one
 * event when filtered, at most 10 webhooks). The link-local rule needs DNS: the service
 * checks it on save and its error is shown as it comes.
 * @example validateWebhooks([{ url: 'https://api.example.com/hooks', all: true, events: [] }])
 */
export function validateWebhooks(rows: readonly WebhookDraft[]): WebhooksValidation {
  const errors: Record<number, { url?: string; events?: string }> = {}
  const out: Webhook[] = []
  rows.forEach((row, i) => {
    const url = row.url.trim()
    let parsed: URL | null = null
    try {
      parsed = new URL(url)
    } catch {}
    if (!parsed || !/^https?:$/.test(parsed.protocol) || !/^https?:\/\//i.test(url)) errors[i] = { url: 'Enter an http:// or https:// URL.' }
    else if (url.length > 2048) errors[i] = { url: 'At most 2048 characters.' }
    if (!row.all && row.events.length === 0) errors[i] = { ...errors[i], events: 'Pick at least one event, or all events.' }
    out.push(row.all ? { url } : { url, events: WEBHOOK_EVENTS.map((e) => e.name).filter((n) => row.events.includes(n)) })
  })
  if (rows.length > MAX_WEBHOOKS) return { ok: false, errors, message: `At most ${MAX_WEBHOOKS} webhooks.` }
  return Object.keys(errors).length > 0 ? { ok: false, errors } : { ok: true, webhooks: out }
}
