import type { ServerResponse } from 'node:http'
import { PusherCloseCodes } from '@herald/protocol'
import { Hono, type Context } from 'hono'
import type { NodeContext } from '../../context.js'
import { toHeraldError } from '../../errors.js'
import { originAllowed } from '../../http/cors.js'
import { alreadySent } from './already-sent.js'
import { admitPusherClient } from './admit.js'
import { PusherConnection, type PusherOutput } from './connection.js'
import { pusherXhrFormat, xhrArray } from './format.js'
import { pusherError } from './frames.js'
import { newSocketId } from './socket-id.js'

/** A session with no receiving request for this long is gone (the client left without a word). */
const DISCONNECT_DELAY_MS = 10_000
/** Largest `xhr_send` body. */
const MAX_SEND_BYTES = 1_048_576

type Env = { Bindings: { outgoing: ServerResponse } }
type Mode = 'xhr_streaming' | 'xhr'

/**
 * One pusher-js HTTP socket (`xhr_streaming` or `xhr_polling`): a SockJS-style session that
 * outlives its requests. Frames are lines: `o` (open), `a[…]` (events), `h` (heartbeat),
 * `c[code,"reason"]` (close). A streaming session keeps one response open and writes lines
 * as they come; a polling one answers each `xhr` request with what is queued, or holds it
 * until something is, or until a heartbeat.
 */
class XhrSession implements PusherOutput<string> {
  readonly format = pusherXhrFormat
  conn!: PusherConnection<string>
  private queue: string[] = []
  private queuedBytes = 0
  private res: ServerResponse | undefined
  private closing: string | undefined
  private timer: NodeJS.Timeout | undefined
  private gone = false

  constructor(
    readonly kind: string,
    private readonly mode: Mode,
    private readonly heartbeatMs: number,
    private readonly forget: () => void,
  ) {
    this.armTimer()
  }

  frame(text: string): string {
    return xhrArray([text])
  }

  write(chunk: string): number {
    if (this.gone || this.closing) return 0
    if (this.res && this.mode === 'xhr_streaming') {
      this.res.write(chunk)
      return chunk.length
    }
    this.queue.push(chunk)
    this.queuedBytes += chunk.length
    if (this.res) setImmediate(() => this.flushPoll())
    return chunk.length
  }

  bufferedBytes(): number {
    return this.queuedBytes + (this.res?.writableLength ?? 0)
  }

  close(code: number, reason: string): void {
    if (this.closing || this.gone) return
    this.closing = 'c' + JSON.stringify([code, reason]) + '\n'
    if (this.res) this.flushPoll()
  }

  /** A receiving request (`xhr_streaming` or `xhr`) of this session arrived; `first` writes `o`. */
  attach(res: ServerResponse, first: boolean): void {
    if (this.res) this.detach(true)
    this.res = res
    clearTimeout(this.timer)
    res.writeHead(200, { 'Content-Type': 'application/javascript; charset=UTF-8', 'Cache-Control': 'no-store, no-cache, no-transform, must-revalidate, max-age=0', ...corsOf(res) })
    res.on('close', () => {
      if (this.res === res) this.detach(false)
    })
    if (first) res.write('o\n')
    if (this.mode === 'xhr_streaming') {
      const pending = this.queue.join('')
      this.queue = []
      this.queuedBytes = 0
      if (pending) res.write(pending)
      if (this.closing) return this.flushPoll()
      this.armTimer()
      return
    }
    if (first || this.queue.length > 0 || this.closing) return this.flushPoll()
    this.armTimer()
  }

  /** xhr_send: events from the client (an empty array is pusher-js's heartbeat). */
  receive(texts: string[]): void {
    this.conn.active = true
    for (const text of texts) this.conn.receive(text)
  }

  /** Ends the current polling response with what is queued (and the close frame when closing). */
  private flushPoll(): void {
    const res = this.res
    if (!res) return
    if (this.mode === 'xhr_streaming' && !this.closing) return
    const body = this.queue.join('') + (this.closing ?? '')
    this.queue = []
    this.queuedBytes = 0
    this.res = undefined
    res.end(body)
    if (this.closing) this.finish()
    else this.armTimer()
  }

  private detach(replaced: boolean): void {
    const res = this.res
    this.res = undefined
    if (replaced && res && !res.writableEnded) res.end()
    if (this.closing) this.finish()
    else this.armTimer()
  }

  /**
   * One timer: with a request attached, the heartbeat (`h`; a held poll is answered with it);
   * without one, the disconnect delay.
   */
  private armTimer(): void {
    clearTimeout(this.timer)
    if (this.gone) return
    if (!this.res) {
      this.timer = setTimeout(() => this.finish(), this.closing ? 0 : DISCONNECT_DELAY_MS)
      this.timer.unref()
      return
    }
    this.timer = setTimeout(() => {
      const res = this.res
      if (!res) return
      if (this.mode === 'xhr_streaming') {
        res.write('h\n')
        this.armTimer()
      } else {
        this.res = undefined
        res.end('h\n')
        this.armTimer()
      }
    }, this.heartbeatMs)
    this.timer.unref()
  }

  private finish(): void {
    if (this.gone) return
    this.gone = true
    clearTimeout(this.timer)
    if (this.res && !this.res.writableEnded) this.res.end(this.closing ?? '')
    this.res = undefined
    this.forget()
    this.conn?.session?.closed(PusherCloseCodes.reconnect, 'http session ended')
  }
}

/** CORS headers for a browser origin (pusher-js's XHRs are cross-origin when the page is elsewhere). */
function cors(origin: string | undefined): Record<string, string> {
  const headers: Record<string, string> = {}
  if (origin) {
    headers['Access-Control-Allow-Origin'] = origin
    headers['Access-Control-Allow-Credentials'] = 'true'
    headers.Vary = 'Origin'
  }
  return headers
}

function corsOf(res: ServerResponse): Record<string, string> {
  return cors(res.req?.headers.origin)
}

/**
 * pusher-js's HTTP fallbacks under `/pusher` (its default `httpPath`):
 * `POST /pusher/app/:key/:server/:session/xhr_streaming|xhr` receive, `…/xhr_send` sends.
 * Sessions live on the node that opened them (a cluster needs sticky routing by path).
 */
export function pusherXhrRoutes(ctx: NodeContext): Hono<Env> {
  const sessions = new Map<string, XhrSession>()
  const r = new Hono<Env>()
  const id = (c: Context<Env>) => `${c.req.param('key')}/${c.req.param('server')}/${c.req.param('session')}`

  r.options('/app/:key/:server/:session/:op', (c) => {
    const origin = c.req.header('origin')
    return c.body(null, 204, {
      ...cors(origin),
      'Access-Control-Allow-Methods': 'POST, OPTIONS',
      'Access-Control-Allow-Headers': c.req.header('access-control-request-headers') ?? 'Content-Type',
      'Access-Control-Max-Age': '86400',
    })
  })

  const receive = (mode: Mode) => async (c: Context<Env>) => {
    const res = c.env.outgoing
    const key = c.req.param('key')!
    const sid = id(c)
    const existing = sessions.get(sid)
    if (existing) {
      existing.attach(res, false)
      return alreadySent()
    }
    if (ctx.draining()) return c.text('server is shutting down', 503)
    const admitted = await admitPusherClient(ctx, key, c.req.query('protocol') ?? null)
    const refuse = (code: number, message: string) => {
      res.writeHead(200, { 'Content-Type': 'application/javascript; charset=UTF-8', ...corsOf(res) })
      res.end('o\n' + xhrArray([pusherError(code, message)]) + 'c' + JSON.stringify([code, message]) + '\n')
      return alreadySent()
    }
    if ('refused' in admitted) return refuse(admitted.refused, admitted.message)
    const { app, cached } = admitted
    if (!originAllowed(app.settings.allowedOrigins, c.req.header('origin'), c.req.header('host'))) return refuse(PusherCloseCodes.unauthorized, 'origin not allowed for this app')
    const session = new XhrSession(mode === 'xhr' ? 'pusher-xhr_polling' : 'pusher-xhr_streaming', mode, ctx.config.heartbeatSeconds * 1000, () => sessions.delete(sid))
    const conn = new PusherConnection(ctx, session, app, newSocketId(), cached.key.keyId, cached.capability)
    session.conn = conn
    try {
      conn.open(app, ctx.config.heartbeatSeconds)
    } catch (err) {
      const e = toHeraldError(err)
      return refuse(e.code === 'limit_exceeded' ? PusherCloseCodes.overConnectionQuota : PusherCloseCodes.overCapacity, e.message)
    }
    sessions.set(sid, session)
    session.attach(res, true)
    return alreadySent()
  }
  r.post('/app/:key/:server/:session/xhr_streaming', receive('xhr_streaming'))
  r.post('/app/:key/:server/:session/xhr', receive('xhr'))

  r.post('/app/:key/:server/:session/xhr_send', async (c) => {
    const headers = cors(c.req.header('origin'))
    const session = sessions.get(id(c))
    if (!session) return c.text('no such session', 404, headers)
    const body = await c.req.text()
    if (body.length > MAX_SEND_BYTES) return c.text('payload too large', 413, headers)
    let texts: unknown
    try {
      texts = body === '' ? [] : JSON.parse(body)
    } catch {
      return c.text('broken JSON encoding', 400, headers)
    }
    if (!Array.isArray(texts) || texts.some((t) => typeof t !== 'string')) return c.text('payload must be an array of strings', 400, headers)
    session.receive(texts as string[])
    return c.body(null, 204, headers)
  })
  return r
}
