import { decodeCursor, splitChannels, type CursorPositions } from '@herald/protocol'
import type { App } from '../apps/types.js'
import { authorize } from '../auth/authorize.js'
import type { Identity } from '../auth/identity.js'
import type { NodeContext } from '../context.js'
import { badRequest, forbidden, type HeraldError, notFound, toHeraldError } from '../errors.js'
import { originAllowed } from './cors.js'

export interface StreamRequestInput {
  appId: string
  /** The `channels` query parameter, `a,b`. */
  channels: string
  token: string | undefined
  origin: string | undefined
  /** The Host header: the service's own origin is always allowed. */
  host?: string | undefined
  transport: 'sse' | 'longpoll'
}

export interface StreamRequest {
  app: App
  identity: Identity
  /** Requested channels, deduplicated, in the order given. */
  channels: string[]
}

/**
 * Everything an SSE or poll request must pass before anything is streamed or held, with the
 * same rules as a WebSocket subscribe: unknown app 404, disallowed Origin 403, bad token 401
 * (`unauthorized` / `token_expired`), bad or too many channels 400, a channel the identity
 * may not subscribe to 403.
 *
 * @example
 * const { app, identity, channels } = await resolveStreamRequest(ctx, { appId, channels: 'a,b', token, origin, transport: 'sse' })
 */
export async function resolveStreamRequest(ctx: NodeContext, input: StreamRequestInput): Promise<StreamRequest> {
  const { appId, transport } = input
  const reject = (err: HeraldError): never => {
    ctx.metrics.rejected.inc({ app: appId, transport, code: err.code })
    throw err
  }
  const app = await ctx.engine.app(appId)
  if (!app) return reject(notFound(`unknown app ${appId}`))
  if (!originAllowed(app.settings.allowedOrigins, input.origin, input.host)) return reject(forbidden('origin not allowed for this app'))
  let identity: Identity
  try {
    identity = await ctx.engine.identify(app, input.token, transport)
  } catch (err) {
    return reject(toHeraldError(err))
  }
  const channels = [...new Set(splitChannels(input.channels))]
  if (channels.length === 0) return reject(badRequest('channels: at least one channel is needed (channels=a,b)'))
  const max = ctx.config.maxSubscriptionsPerConnection
  if (channels.length > max) return reject(badRequest(`channels: at most ${max} channels per request`))
  try {
    for (const channel of channels) authorize(app, identity, channel, 'subscribe')
  } catch (err) {
    return reject(toHeraldError(err))
  }
  return { app, identity, channels }
}

/** Decodes a cursor parameter (SSE `Last-Event-ID` / `lastEventId`, poll `cursor`); throws `bad_request` when malformed. */
export function parseCursor(value: string | undefined, what: string): CursorPositions | undefined {
  if (value === undefined || value === '') return undefined
  const positions = decodeCursor(value)
  if (!positions) throw badRequest(`${what}: not a valid cursor`)
  return positions
}
