import type { ServerResponse } from 'node:http'
import { createRoute, OpenAPIHono, z } from '@hono/zod-openapi'
import type { HttpBindings } from '@hono/node-server'
import { CloseCodes } from '@herald/protocol'
import type { Context } from 'hono'
import type { NodeContext } from '../context.js'
import { HeraldError, toHeraldError } from '../errors.js'
import { AppIdParam, errorResponses, json, MessageSchema } from '../http/schemas.js'
import { validationHook } from '../http/validation.js'
import { answerPoll, type HeldPoll, type PollOutcome } from './poll.js'
import { SseStream } from './sse.js'
import type { StreamOptions } from './stream-options.js'
import { connectionLimit, hasRoom, parseCursor, resolveStreamRequest } from './stream-request.js'

type Env = { Bindings: HttpBindings }

const Channels = z.string().min(1).max(40_000).openapi({ description: 'Comma-separated channel names', example: 'chat,news' })
const Token = z.string().max(16_384).optional().openapi({ description: 'A client JWT; none: anonymous (public channels when `anonymousSubscribe` is on)' })
const Rewind = z.coerce.number().int().min(0).max(10_000).optional().openapi({ description: 'Start this many messages back (channels without a position in the cursor)' })

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
      cursor: z.string().max(16_384).optional().openapi({ description: 'Resume point (a poll cursor or an SSE event id); none: answer at once with the heads' }),
      wait: z.coerce.number().int().min(0).max(30).optional().openapi({ description: 'Seconds to hold when nothing is new (default 25, 0: plain poll)' }),
      rewind: Rewind,
    }),
  },
  responses: { 200: json(PollReplySchema, 'Messages past the cursor and the next cursor'), ...errorResponses(400, 401, 403, 404, 429, 503) },
})

/** Default and largest `wait` of a long-poll (s). */
const DEFAULT_WAIT_SECONDS = 25

/**
 * The HTTP streaming transports: Server-Sent Events (`/v1/apps/:appId/sse`) and long-poll /
 * poll (`/v1/apps/:appId/poll`). Both are connections of the hub (SSE streams while open,
 * polls while held), so they count toward `maxConnections` and are closed on key
 * revocation, app deletion and shutdown. One timer writes the SSE heartbeat of every stream.
 *
 * @example
 * const streams = new HttpStreams(ctx)
 * app.route('/v1', streams.routes())
 * // on shutdown
 * streams.closeAll(1001, 'server going away')
 */
export class HttpStreams {
  private readonly streams = new Set<SseStream>()
  private readonly polls = new Set<HeldPoll>()
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

  /** Open SSE streams and held polls of this node. */
  get size(): number {
    return this.streams.size + this.polls.size
  }

  private async sse(c: Context<Env>, appId: string, q: SseQuery): Promise<Response> {
    if (this.ctx.draining()) throw new ShuttingDown()
    const res = c.env?.outgoing as ServerResponse | undefined
    if (!res) throw new HeraldError('internal', 'SSE needs the Node HTTP server')
    const origin = c.req.header('origin')
    const { app, identity, channels } = await resolveStreamRequest(this.ctx, { appId, channels: q.channels, token: q.token, origin, host: c.req.header('host'), transport: 'sse' })
    const header = c.req.header('last-event-id')
    const since = header !== undefined && header !== '' ? parseCursor(header, 'Last-Event-ID') : parseCursor(q.lastEventId, 'lastEventId')
    if (!hasRoom(this.ctx, app)) {
      this.ctx.metrics.rejected.inc({ app: app.id, transport: 'sse', code: 'limit_exceeded' })
      throw connectionLimit(app)
    }
    if (res.destroyed) return alreadySent()

    const headers: Record<string, string> = {}
    if (origin) {
      headers['Access-Control-Allow-Origin'] = origin
      headers['Vary'] = 'Origin'
    }
    const stream = new SseStream(this.ctx, res, app.id, identity, channels, { named: q.events === 'named', retryMs: this.options.retryMs, maxStreamMs: this.options.maxStreamMs, headers }, (s) => this.closed(s))
    this.streams.add(stream)
    this.ctx.hub.add(stream)
    this.ctx.metrics.connectionOpened(app.id, 'sse')
    this.startPinger()
    try {
      await stream.open(app, since, q.rewind ?? 0)
    } catch (err) {
      const e = toHeraldError(err)
      if (e.code === 'internal') this.ctx.logger.error({ err, app: app.id }, 'sse open failed')
      throw e
    }
    return alreadySent()
  }

  private closed(stream: SseStream): void {
    if (!this.streams.delete(stream)) return
    this.ctx.hub.remove(stream)
    this.ctx.metrics.connectionClosed(stream.appId, 'sse')
  }

  private async poll(c: Context, appId: string, q: PollQuery): Promise<PollOutcome> {
    const request = await resolveStreamRequest(this.ctx, { appId, channels: q.channels, token: q.token, origin: c.req.header('origin'), host: c.req.header('host'), transport: 'longpoll' })
    const cursor = parseCursor(q.cursor, 'cursor')
    const wait = q.wait ?? DEFAULT_WAIT_SECONDS
    return answerPoll(
      this.ctx,
      { ...request, cursor, wait, rewind: q.rewind ?? 0, signal: c.req.raw.signal },
      {
        batchMs: this.options.pollBatchMs,
        held: (poll, active) => {
          if (active) {
            this.polls.add(poll)
            this.ctx.hub.add(poll)
            this.ctx.metrics.connectionOpened(poll.appId, 'longpoll')
          } else if (this.polls.delete(poll)) {
            this.ctx.hub.remove(poll)
            this.ctx.metrics.connectionClosed(poll.appId, 'longpoll')
          }
        },
      },
    )
  }

  /** One timer for every stream's heartbeat comment; it stops when no stream is left. */
  private startPinger(): void {
    if (this.pinger) return
    this.pinger = setInterval(() => {
      if (this.streams.size === 0) {
        clearInterval(this.pinger)
        this.pinger = undefined
        return
      }
      for (const stream of this.streams) stream.ping()
    }, this.options.pingMs)
    this.pinger.unref()
  }

  /** Ends every open stream and answers every held poll (shutdown). */
  closeAll(code: number, reason: string): void {
    for (const stream of [...this.streams]) stream.close(code, reason)
    for (const poll of [...this.polls]) poll.close(code, reason)
    if (code === CloseCodes.goingAway) {
      clearInterval(this.pinger)
      this.pinger = undefined
    }
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
