import { z } from 'zod'

/** Webhook event names (docs/webhooks.md); a webhook without `events` gets all of them. */
export const WEBHOOK_EVENTS = [
  'channel_occupied',
  'channel_vacated',
  'member_added',
  'member_removed',
  'client_event',
  'cache_miss',
  'subscription_count',
] as const
export type WebhookEventName = (typeof WEBHOOK_EVENTS)[number]

/** One webhook: where to POST, and which events (all when absent). */
export const WebhookSchema = z
  .object({
    url: z
      .string()
      .max(2048)
      .url()
      .regex(/^https?:\/\//i, 'an http:// or https:// URL'),
    events: z.array(z.enum(WEBHOOK_EVENTS)).min(1).max(WEBHOOK_EVENTS.length).optional(),
  })
  .strict()
export type Webhook = z.infer<typeof WebhookSchema>

/** Each setting's type and bounds, without defaults (so a partial update never resets anything). */
const fields = {
  anonymousSubscribe: z.boolean(),
  maxMessageBytes: z.number().int().min(64).max(1_048_576),
  historySize: z.number().int().min(0).max(10_000),
  historyTtlSeconds: z.number().int().min(1).max(604_800),
  maxConnections: z.number().int().min(1).max(1_000_000),
  publishRatePerSecond: z.number().int().min(1).max(1_000_000),
  maxTokenTtlSeconds: z.number().int().min(60).max(31_536_000),
  allowedOrigins: z
    .array(
      z
        .string()
        .min(1)
        .max(256)
        .regex(/^(\*|https?:\/\/[^\s/]+)$/, 'an origin such as https://example.com, or *'),
    )
    .max(100),
  clientEvents: z.boolean(),
  webhooks: z.array(WebhookSchema).max(10),
}

/** The contract's defaults. */
export const DEFAULT_SETTINGS = {
  anonymousSubscribe: true,
  maxMessageBytes: 65_536,
  historySize: 100,
  historyTtlSeconds: 3_600,
  maxConnections: 10_000,
  publishRatePerSecond: 1_000,
  maxTokenTtlSeconds: 86_400,
  allowedOrigins: ['*'],
  clientEvents: false,
  webhooks: [] as Webhook[],
}

/** App settings with the contract's names and defaults. */
export const AppSettingsSchema = z
  .object({
    anonymousSubscribe: fields.anonymousSubscribe.default(DEFAULT_SETTINGS.anonymousSubscribe),
    maxMessageBytes: fields.maxMessageBytes.default(DEFAULT_SETTINGS.maxMessageBytes),
    historySize: fields.historySize.default(DEFAULT_SETTINGS.historySize),
    historyTtlSeconds: fields.historyTtlSeconds.default(DEFAULT_SETTINGS.historyTtlSeconds),
    maxConnections: fields.maxConnections.default(DEFAULT_SETTINGS.maxConnections),
    publishRatePerSecond: fields.publishRatePerSecond.default(DEFAULT_SETTINGS.publishRatePerSecond),
    maxTokenTtlSeconds: fields.maxTokenTtlSeconds.default(DEFAULT_SETTINGS.maxTokenTtlSeconds),
    allowedOrigins: fields.allowedOrigins.default(() => [...DEFAULT_SETTINGS.allowedOrigins]),
    clientEvents: fields.clientEvents.default(DEFAULT_SETTINGS.clientEvents),
    webhooks: fields.webhooks.default(() => []),
  })
  .strict()

export type AppSettings = z.infer<typeof AppSettingsSchema>

/** A partial settings object, as accepted on create and update: missing keys keep their value. */
export const AppSettingsPatchSchema = z.object(fields).partial().strict()
export type AppSettingsPatch = z.infer<typeof AppSettingsPatchSchema>

/** Merges a patch over current settings and validates the result. */
export function applySettings(current: AppSettings, patch: AppSettingsPatch | undefined): AppSettings {
  return AppSettingsSchema.parse({ ...current, ...(patch ?? {}) })
}
