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

export function keyIdOf(identity: Identity): string | undefined {
  return identity.kind === 'anonymous' ? undefined : identity.keyId
}
