import type { AppSettings } from './settings.js'

/** The operations a capability grants on a channel pattern. */
export const Operations = ['subscribe', 'publish', 'presence', 'history'] as const
export type Operation = (typeof Operations)[number]

/** `{"<channel pattern>": [operations]}`; `*` in a pattern matches any run of characters. */
export type Capability = Record<string, Operation[]>

/** The capability a key gets when none is set: everything. */
export const FULL_CAPABILITY: Capability = { '*': [...Operations] }

export interface App {
  id: string
  name: string
  settings: AppSettings
  createdAt: string
}

export interface AppKey {
  appId: string
  keyId: string
  /** The plain secret; stores keep it encrypted at rest and decrypt on read. */
  secret: string
  label?: string
  capability: Capability
  createdAt: string
  revokedAt?: string
}
