import type { IncomingMessage, RequestListener, ServerResponse } from 'node:http'
import type { NodeContext } from '../context.js'
import type { HeraldError } from '../errors.js'
import { MAX_BODY_BYTES } from './app.js'
import { answerOf } from './errors.js'
import { isPublishBody, JSON_TYPES } from './publish-body.js'
import { publishRest } from './publish.js'

/** `/v1/apps/<appId>/messages`, optionally with a query string; app ids are `app_` + base64url (apps/ids.ts); anything else is Hono's to answer. */
const PUBLISH_PATH = /^\/v1\/apps\/([A-Za-z0-9_-]{1,64})\/messages(?:\?|$)/

/** The body of a request Hono answers after all (its `rawBody` is read by @hono/node-server instead of the stream). */
type Replayed = IncomingMessage & { rawBody?: Buffer }

/**
 * `POST /v1/apps/:appId/messages` straight from node:http, before Hono: the server-to-server
 * publish (no `Origin`, a JSON body with a `Content-Length`) that a backend sends thousands of
 * times a second. Hono's adapter builds a Request, a Context, a middleware chain and a Response
 * for each; this reads the body, runs the one synchronous check the route's schema is mirrored
 * by ({@link isPublishBody}) and the same {@link publishRest} the Hono route calls, and writes
 * the answer itself.
 *
 * Whatever it does not take goes to `next` (the Hono app) unchanged, so the route keeps one
 * meaning: browser requests (CORS), other content types, chunked or oversized bodies, and
 * bodies the check does not accept (invalid JSON, schema refusals: Hono's validator answers them,
 * from the body read here, so every refusal keeps the schema's own message).
 */
export function publishFastPath(ctx: NodeContext, next: RequestListener): RequestListener {
  return (req, res) => {
    const h = req.headers
    if (req.method !== 'POST' || h.origin !== undefined || h['transfer-encoding'] !== undefined || !JSON_TYPES.has(h['content-type'])) return next(req, res)
    const match = PUBLISH_PATH.exec(req.url ?? '')
    const length = Number(h['content-length'])
    if (match === null || !(length >= 0 && length <= MAX_BODY_BYTES)) return next(req, res)
    const appId = match[1] as string
    readBody(req, (body) => {
      let parsed: unknown
      try {
        parsed = JSON.parse(body.toString('utf8'))
      } catch {
        parsed = undefined
      }
      if (!isPublishBody(parsed)) {
        ;(req as Replayed).rawBody = body
        return next(req, res)
      }
      publishRest(ctx, appId, h.authorization, parsed).then(
        (reply) => send(res, 200, JSON.stringify(reply)),
        (err: unknown) => sendError(res, answerOf(err, ctx.logger, `/v1/apps/${appId}/messages`)), // the path, as Hono logs it (no query)
      )
    })
  }
}

/** Reads exactly the announced body (Node's parser stops at Content-Length); nothing is answered if the client goes away. */
function readBody(req: IncomingMessage, done: (body: Buffer) => void): void {
  const chunks: Buffer[] = []
  let size = 0
  req.on('data', (chunk: Buffer) => {
    chunks.push(chunk)
    size += chunk.length
  })
  req.once('end', () => done(chunks.length === 1 ? (chunks[0] as Buffer) : Buffer.concat(chunks, size)))
  req.once('error', () => {}) // aborted: the socket is gone, there is no one to answer
}

function send(res: ServerResponse, status: number, json: string, extra?: string[]): void {
  const headers = ['Content-Type', 'application/json', 'Content-Length', String(Buffer.byteLength(json))]
  if (extra) headers.push(...extra)
  res.writeHead(status, headers)
  res.end(json)
}

/** The contract's error answer, as `errorResponse` writes it for Hono routes. */
function sendError(res: ServerResponse, err: HeraldError): void {
  send(res, err.status, JSON.stringify(err.toBody()), err.retryAfter === undefined ? undefined : ['Retry-After', String(err.retryAfter)])
}
