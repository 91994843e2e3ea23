import type { ServerResponse } from 'node:http'
import { PusherCloseCodes } from '@herald/protocol'
import { Hono, type Context } from 'hono'
import { bodyLimit } from 'hono/body-limit'
import type { NodeContext } from '../context.js'
import { toHeraldError } from '../errors.js'
import { admitPusherClient } from '../protocols/pusher/admit.js'
import { PusherConnection } from '../protocols/pusher/connection.js'
import { xhrArray } from '../protocols/pusher/format.js'
import { pusherError } from '../protocols/pusher/frames.js'
import { newSocketId } from '../protocols/pusher/socket-id.js'
import { cors, XhrSession, type XhrMode } from '../protocols/pusher/xhr.js'
import { originAllowed } from './cors.js'

/** Largest `xhr_send` body. */
const MAX_SEND_BYTES = 1_048_576

type Env = { Bindings: { outgoing: ServerResponse } }

/**
 * The platform's own Response class: @hono/node-server swaps the global `Response` for a
 * subclass whose fast path ignores `x-hono-already-sent`; its prototype's parent is the real one.
 */
const NativeResponse: typeof Response = (() => {
  const parent = Object.getPrototypeOf(Response.prototype) as { constructor: typeof Response } | null
  return parent && parent !== Object.prototype ? parent.constructor : Response
})()

/** Tells the Node adapter that the handler wrote the response itself (to `c.env.outgoing`). */
function alreadySent(): Response {
  return new NativeResponse(null, { headers: { 'x-hono-already-sent': 'true' } })
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

  const receive = (mode: XhrMode) => async (c: Context<Env>) => {
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
      res.writeHead(200, { 'Content-Type': 'application/javascript; charset=UTF-8', ...cors(c.req.header('origin')) })
      res.end('o\n' + xhrArray([pusherError(code, message)]) + 'c' + JSON.stringify([code, message]) + '\n')
      return alreadySent()
    }
    if ('refused' in admitted) return refuse(admitted.refused, admitted.message)
    const { app, cached } = admitted
    if (!originAllowed(app.settings.allowedOrigins, c.req.header('origin'), c.req.header('host')))
      return refuse(PusherCloseCodes.unauthorized, 'origin not allowed for this app')
    const session = new XhrSession(mode === 'xhr' ? 'pusher-xhr_polling' : 'pusher-xhr_streaming', mode, ctx.config.heartbeatSeconds * 1000, () =>
      sessions.delete(sid),
    )
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

  const sendLimit = bodyLimit({ maxSize: MAX_SEND_BYTES, onError: (c) => c.text('payload too large', 413, cors(c.req.header('origin'))) })
  r.post('/app/:key/:server/:session/xhr_send', sendLimit, async (c) => {
    const headers = cors(c.req.header('origin'))
    const session = sessions.get(id(c))
    if (!session) return c.text('no such session', 404, headers)
    const body = await c.req.text()
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
