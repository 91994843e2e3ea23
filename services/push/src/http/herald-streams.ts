import type { ServerResponse } from 'node:http'
import { createRoute, OpenAPIHono, z } from '@hono/zod-openapi'
import type { HttpBindings } from '@hono/node-server'
import type { Context } from 'hono'
import type { NodeContext } from '../context.js'
import { ClientSession } from '../engine/session.js'
import { HeraldError, toHeraldError } from '../errors.js'
import { answerPoll, type PollOutcome } from '../protocols/herald/poll.js'
import { SseWire } from '../protocols/herald/sse.js'
import type { StreamOptions } from '../protocols/herald/stream-options.js'
import { AppIdParam, errorResponses, json, MessageSchema } from './schemas.js'
import { parseCursor, resolveStreamRequest } from './stream-request.js'
import { validationHook } from './validation.js'

type Env = { Bindings: HttpBindings }

const Channels = z.string().min(1).max(40_000).openapi({ description: 'Comma-separated channel names', example: 'chat,news' })
const Token = z.string().max(16_384).optional().openapi({ description: 'A client JWT; none: anonymous (public channels when `anonymousSubscribe` is on)' })
const Rewind = z.coerce
  .number()
  .int()
  .min(0)
  .max(10_000)
  .optional()
  .openapi({ description: 'Start this many messages back (channels without a position in the cursor)' })

const sseRoute = createRoute({
  method: 'get',
  path: '/apps/{appId}/sse',
  tags: ['transports'],
  summary: 'Server-Sent Events: subscribed, message, presence and error events; resume with Last-Event-ID',
  request: {
    params: AppIdParam,
    query: z.object({
      channels: Channels,
      token: Token,
      lastEventId: z.string().max(16_384).optional().openapi({ description: 'A cursor to resume from (the Last-Event-ID header wins)' }),
      rewind: Rewind,
      events: z.enum(['named']).optional().openapi({ description: '`named`: a message with a name uses it as the event type' }),
    }),
    headers: z.object({ 'last-event-id': z.string().max(16_384).optional() }),
  },
  responses: {
    200: { description: 'An event stream (docs/protocol-http.md)', content: { 'text/event-stream': { schema: z.string() } } },
    ...errorResponses(400, 401, 403, 404, 429, 503),
  },
})

type SseQuery = z.infer<typeof sseRoute.request.query>
type PollQuery = z.infer<typeof pollRoute.request.query>

export const PollReplySchema = z
  .object({
    cursor: z.string(),
    messages: z.array(MessageSchema),
    recovered: z.record(z.string(), z.literal(false)).optional(),
  })
  .openapi('PollReply')

const pollRoute = createRoute({
  method: 'get',
  path: '/apps/{appId}/poll',
  tags: ['transports'],
  summary: 'Long-poll / poll: messages past a cursor, held up to `wait` seconds',
  request: {
    params: AppIdParam,
    query: z.object({
      channels: Channels,
      token: Token,
      cursor: z
        .string()
        .max(16_384)
        .optional()
        .openapi({ description: 'Resume point (a poll cursor or an SSE event id); none: answer at once with the heads' }),
      wait: z.coerce.number().int().min(0).max(30).optional().openapi({ description: 'Seconds to hold when nothing is new (default 25, 0: plain poll)' }),
      rewind: Rewind,
    }),
  },
  responses: { 200: json(PollReplySchema, 'Messages past the cursor and the next cursor'), ...errorResponses(400, 401, 403, 404, 429, 503) },
})

/** Default and largest `wait` of a long-poll (s). */
const DEFAULT_WAIT_SECONDS = 25

/**
 * The Herald HTTP streaming routes: Server-Sent Events (`/v1/apps/:appId/sse`) and long-poll /
 * poll (`/v1/apps/:appId/poll`). Both are sessions of the engine (SSE streams while open,
 * polls while held), so they count toward `maxConnections` and are closed on key revocation,
 * app deletion and shutdown through the hub. One timer writes the SSE heartbeat of every stream.
 *
 * @example
 * app.route('/v1', new HeraldStreams(ctx).routes())
 */
export class HeraldStreams {
  private readonly options: StreamOptions
  private pinger: NodeJS.Timeout | undefined

  constructor(
    private readonly ctx: NodeContext,
    options: Partial<StreamOptions> = {},
  ) {
    this.options = { ...ctx.config.streams, ...options }
  }

  /** Routes mounted under `/v1`. */
  routes(): OpenAPIHono<Env> {
    const r = new OpenAPIHono<Env>({ defaultHook: validationHook })
    r.openapi(sseRoute, (c) => this.sse(c, c.req.valid('param').appId, c.req.valid('query')))
    r.openapi(pollRoute, async (c) => {
      if (this.ctx.draining()) throw new ShuttingDown()
      const outcome = await this.poll(c, c.req.valid('param').appId, c.req.valid('query'))
      if ('error' in outcome) throw outcome.error
      return c.json(outcome.reply as z.infer<typeof PollReplySchema>, 200, outcome.close ? { Connection: 'close' } : {})
    })
    return r
  }

  private async sse(c: Context<Env>, appId: string, q: SseQuery): Promise<Response> {
    if (this.ctx.draining()) throw new ShuttingDown()
    const res = c.env?.outgoing as ServerResponse | undefined
    if (!res) throw new HeraldError('internal', 'SSE needs the Node HTTP server')
    const origin = c.req.header('origin')
    const { app, identity, channels } = await resolveStreamRequest(this.ctx, {
      appId,
      channels: q.channels,
      token: q.token,
      origin,
      host: c.req.header('host'),
      transport: 'sse',
    })
    const header = c.req.header('last-event-id')
    const since = header !== undefined && header !== '' ? parseCursor(header, 'Last-Event-ID') : parseCursor(q.lastEventId, 'lastEventId')
    if (!this.ctx.engine.hasRoom(app)) {
      this.ctx.metrics.rejected.inc({ app: app.id, transport: 'sse', code: 'limit_exceeded' })
      throw this.ctx.engine.connectionLimit(app)
    }
    if (res.destroyed) return alreadySent()

    const headers: Record<string, string> = {}
    if (origin) {
      headers['Access-Control-Allow-Origin'] = origin
      headers.Vary = 'Origin'
    }
    const wire = new SseWire(res, channels, { named: q.events === 'named', retryMs: this.options.retryMs, maxStreamMs: this.options.maxStreamMs, headers })
    const session = this.ctx.engine.open({ app, identity, wire })
    this.startPinger()
    try {
      await wire.open(session, since, q.rewind ?? 0)
    } catch (err) {
      const e = toHeraldError(err)
      if (e.code === 'internal') this.ctx.logger.error({ err, app: app.id }, 'sse open failed')
      throw e
    }
    return alreadySent()
  }

  private async poll(c: Context, appId: string, q: PollQuery): Promise<PollOutcome> {
    const request = await resolveStreamRequest(this.ctx, {
      appId,
      channels: q.channels,
      token: q.token,
      origin: c.req.header('origin'),
      host: c.req.header('host'),
      transport: 'longpoll',
    })
    const cursor = parseCursor(q.cursor, 'cursor')
    const wait = q.wait ?? DEFAULT_WAIT_SECONDS
    return answerPoll(this.ctx.engine, { ...request, cursor, wait, rewind: q.rewind ?? 0, signal: c.req.raw.signal, batchMs: this.options.pollBatchMs })
  }

  /** One timer for the heartbeat comment of every SSE session of the hub; it stops when none is left. */
  private startPinger(): void {
    if (this.pinger) return
    this.pinger = setInterval(() => {
      let n = 0
      for (const s of this.ctx.engine.hub.sessions('sse')) {
        if (s instanceof ClientSession && s.wire instanceof SseWire) {
          s.wire.ping()
          n++
        }
      }
      if (n === 0) {
        clearInterval(this.pinger)
        this.pinger = undefined
      }
    }, this.options.pingMs)
    this.pinger.unref()
  }

  /** Stops the heartbeat timer (shutdown, after every session was closed). */
  stop(): void {
    clearInterval(this.pinger)
    this.pinger = undefined
  }
}

/** A node that is draining refuses new streams and polls: 503 with Retry-After (another node, or this one restarted). */
class ShuttingDown extends HeraldError {
  override readonly status = 503
  constructor() {
    super('internal', 'server is shutting down', 1)
  }
}

/**
 * The platform's own Response class. @hono/node-server replaces the global `Response` with a
 * lightweight subclass whose fast path ignores `x-hono-already-sent` and writes headers again
 * (its `RESPONSE_ALREADY_SENT` works only because it is built before that swap); the subclass
 * keeps the real class as its prototype's parent, whenever this module is loaded.
 */
const NativeResponse: typeof Response = (() => {
  const parent = Object.getPrototypeOf(Response.prototype) as { constructor: typeof Response } | null
  return parent && parent !== Object.prototype ? parent.constructor : Response
})()

/**
 * Tells the Node adapter the response was written directly to `c.env.outgoing`. A fresh one
 * per request: middleware (CORS) may set headers on it, which must not pile up on a shared one.
 */
function alreadySent(): Response {
  return new NativeResponse(null, { headers: { 'x-hono-already-sent': 'true' } })
}
