import { z } from 'zod'

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
    .array(z.string().min(1).max(256).regex(/^(\*|https?:\/\/[^\s/]+)$/, 'an origin such as https://example.com, or *'))
    .max(100),
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
