import type { PresenceMember } from '@herald/protocol'
import type { CompiledCapability } from './capability.js'

/**
 * Who is calling, for one app. Built by the credential parsers and checked by
 * `authorize()`: the tenant is on the identity itself.
 */
export type Identity =
  | { kind: 'anonymous'; appId: string }
  | {
      kind: 'token'
      appId: string
      keyId: string
      clientId?: string
      capability: CompiledCapability
      /** Seconds since the epoch. */
      exp: number
      info?: Record<string, unknown>
    }
  | { kind: 'basic'; appId: string; keyId: string; capability: CompiledCapability }

/** The presence member an identity enters as: its `sub` and token `info`; none without `sub`. */
export function presenceMember(identity: Identity): PresenceMember | undefined {
  if (identity.kind !== 'token' || !identity.clientId) return undefined
  return identity.info ? { clientId: identity.clientId, info: identity.info } : { clientId: identity.clientId }
}

export function keyIdOf(identity: Identity): string | undefined {
  return identity.kind === 'anonymous' ? undefined : identity.keyId
}
