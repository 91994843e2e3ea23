import { PusherCloseCodes } from '@herald/protocol'
import type { CachedKey } from '../../apps/registry.js'
import type { App } from '../../apps/types.js'
import type { NodeContext } from '../../context.js'

/** The protocol versions this face speaks (what pusher-js 7 and 8 send). */
const PROTOCOL = '7'

export type Admission = { app: App; cached: CachedKey } | { refused: number; message: string }

/**
 * Who a Pusher client is, from its URL: the app of its key (a live keyId of the app) and the
 * protocol it asks for. A refusal carries the Pusher close code that tells pusher-js not to
 * retry (4001 unknown key, 4007/4008 protocol).
 */
export async function admitPusherClient(ctx: NodeContext, keyId: string, protocol: string | null): Promise<Admission> {
  if (protocol === null) return { refused: PusherCloseCodes.noProtocol, message: 'no protocol version given (protocol=7)' }
  if (protocol !== PROTOCOL)
    return { refused: PusherCloseCodes.unsupportedProtocol, message: `protocol ${protocol.slice(0, 10)} is not supported; this server speaks protocol 7` }
  const appId = await ctx.engine.appIdOfKey(keyId)
  const app = appId ? await ctx.engine.app(appId) : undefined
  const cached = app ? await ctx.engine.key(app.id, keyId) : null
  if (!app || !cached) return { refused: PusherCloseCodes.appNotFound, message: `no app has the key ${keyId.slice(0, 64)} (unknown or revoked)` }
  return { app, cached }
}
