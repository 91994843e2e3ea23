import { z } from 'zod'

/** App settings with the contract's names and defaults. */
export const AppSettingsSchema = z
  .object({
    anonymousSubscribe: z.boolean().default(true),
    maxMessageBytes: z.number().int().min(64).max(1_048_576).default(65_536),
    historySize: z.number().int().min(0).max(10_000).default(100),
    historyTtlSeconds: z.number().int().min(1).max(604_800).default(3_600),
    maxConnections: z.number().int().min(1).max(1_000_000).default(10_000),
    publishRatePerSecond: z.number().int().min(1).max(1_000_000).default(1_000),
    maxTokenTtlSeconds: z.number().int().min(60).max(31_536_000).default(86_400),
    allowedOrigins: z
      .array(z.string().min(1).max(256).regex(/^(\*|https?:\/\/[^\s/]+)$/, 'an origin such as https://example.com, or *'))
      .max(100)
      .default(['*']),
  })
  .strict()

export type AppSettings = z.infer<typeof AppSettingsSchema>

/** A partial settings object, as accepted on create and update (missing keys keep their value). */
export const AppSettingsPatchSchema = AppSettingsSchema.partial().strict()
export type AppSettingsPatch = z.infer<typeof AppSettingsPatchSchema>

export const DEFAULT_SETTINGS: AppSettings = AppSettingsSchema.parse({})

/** Merges a patch over current settings and validates the result. */
export function applySettings(current: AppSettings, patch: AppSettingsPatch | undefined): AppSettings {
  return AppSettingsSchema.parse({ ...current, ...(patch ?? {}) })
}
