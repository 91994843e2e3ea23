import type { AppSettings as AllSettings } from '../api/types.js'

/** The settings this form edits (webhooks have their own form: `webhooks-spec.ts`). */
export type AppSettings = Omit<AllSettings, 'webhooks'>

interface FieldBase<K extends keyof AppSettings> {
  key: K
  label: string
  help: string
}

export type BooleanKey = 'anonymousSubscribe' | 'clientEvents'

export interface BooleanField extends FieldBase<BooleanKey> {
  kind: 'boolean'
  default: boolean
}

export type IntegerKey = Exclude<keyof AppSettings, BooleanKey | 'allowedOrigins'>

export interface IntegerField extends FieldBase<IntegerKey> {
  kind: 'integer'
  default: number
  min: number
  max: number
  unit?: string
}

export interface OriginsField extends FieldBase<'allowedOrigins'> {
  kind: 'origins'
  default: string[]
}

export type SettingField = BooleanField | IntegerField | OriginsField

/** Every app setting of the contract, with its default and the bounds the service accepts. */
export const SETTING_FIELDS: readonly SettingField[] = [
  {
    key: 'anonymousSubscribe',
    kind: 'boolean',
    default: true,
    label: 'Anonymous subscribe',
    help: 'Anyone with the app id may subscribe to public channels without a token.',
  },
  {
    key: 'maxMessageBytes',
    kind: 'integer',
    default: 65_536,
    min: 64,
    max: 1_048_576,
    unit: 'bytes',
    label: 'Max message size',
    help: 'Largest message a publisher may send.',
  },
  {
    key: 'historySize',
    kind: 'integer',
    default: 100,
    min: 0,
    max: 10_000,
    unit: 'messages',
    label: 'History size',
    help: 'Messages kept per channel for resume and history.',
  },
  {
    key: 'historyTtlSeconds',
    kind: 'integer',
    default: 3_600,
    min: 1,
    max: 604_800,
    unit: 'seconds',
    label: 'History TTL',
    help: 'How long a channel keeps its history.',
  },
  {
    key: 'maxConnections',
    kind: 'integer',
    default: 10_000,
    min: 1,
    max: 1_000_000,
    unit: 'connections',
    label: 'Max connections',
    help: 'Concurrent client connections allowed for this app.',
  },
  {
    key: 'publishRatePerSecond',
    kind: 'integer',
    default: 1_000,
    min: 1,
    max: 1_000_000,
    unit: 'per second',
    label: 'Publish rate',
    help: 'Messages per second the app may publish.',
  },
  {
    key: 'maxTokenTtlSeconds',
    kind: 'integer',
    default: 86_400,
    min: 60,
    max: 31_536_000,
    unit: 'seconds',
    label: 'Max token TTL',
    help: 'Longest lifetime a client token may have.',
  },
  {
    key: 'clientEvents',
    kind: 'boolean',
    default: false,
    label: 'Client events',
    help: 'Pusher clients may send client-* events on private and presence channels they are subscribed to.',
  },
  { key: 'allowedOrigins', kind: 'origins', default: ['*'], label: 'Allowed origins', help: 'One per line: * or an origin such as https://example.com.' },
]

export const DEFAULT_SETTINGS: AppSettings = Object.fromEntries(SETTING_FIELDS.map((f) => [f.key, f.default])) as unknown as AppSettings

/** The form's editable text for each setting. */
export type SettingsDraft = Record<BooleanKey, boolean> & Record<IntegerKey | 'allowedOrigins', string>

export function toDraft(settings: AppSettings): SettingsDraft {
  const draft = { anonymousSubscribe: settings.anonymousSubscribe, clientEvents: settings.clientEvents } as SettingsDraft
  for (const f of SETTING_FIELDS) {
    if (f.kind === 'integer') draft[f.key] = String(settings[f.key])
    if (f.kind === 'origins') draft.allowedOrigins = settings.allowedOrigins.join('\n')
  }
  return draft
}

const ORIGIN = /^(\*|https?:\/\/[^\s/]+)$/

export type ValidationResult = { ok: true; settings: AppSettings } | { ok: false; errors: Partial<Record<keyof AppSettings, string>> }

/**
 * Checks the form's text against the same rules as the service and returns typed settings.
 * @example validateSettings(toDraft(DEFAULT_SETTINGS)) // { ok: true, settings: {...} }
 */
export function validateSettings(draft: SettingsDraft): ValidationResult {
  const errors: Partial<Record<keyof AppSettings, string>> = {}
  const out = { anonymousSubscribe: draft.anonymousSubscribe, clientEvents: draft.clientEvents } as AppSettings
  for (const f of SETTING_FIELDS) {
    if (f.kind === 'integer') {
      const text = draft[f.key].trim()
      const n = Number(text)
      if (!/^-?\d+$/.test(text) || !Number.isSafeInteger(n)) errors[f.key] = 'Enter a whole number.'
      else if (n < f.min || n > f.max) errors[f.key] = `Must be between ${f.min.toLocaleString('en')} and ${f.max.toLocaleString('en')}.`
      else out[f.key] = n
    } else if (f.kind === 'origins') {
      const origins = draft.allowedOrigins
        .split(/[\n,]/)
        .map((s) => s.trim())
        .filter(Boolean)
      const bad = origins.find((o) => !ORIGIN.test(o) || o.length > 256)
      if (bad !== undefined) errors.allowedOrigins = `"${bad}" is not an origin: use * or a scheme and host such as https://example.com.`
      else if (origins.length > 100) errors.allowedOrigins = 'At most 100 origins.'
      else out.allowedOrigins = origins
    }
  }
  return Object.keys(errors).length > 0 ? { ok: false, errors } : { ok: true, settings: out }
}

/** The settings that differ between two objects (what a PATCH needs to send). */
export function changedSettings(before: AppSettings, after: AppSettings): Partial<AppSettings> {
  const patch: Partial<AppSettings> = {}
  for (const f of SETTING_FIELDS) {
    if (JSON.stringify(before[f.key]) !== JSON.stringify(after[f.key])) (patch as Record<string, unknown>)[f.key] = after[f.key]
  }
  return patch
}
