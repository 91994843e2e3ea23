import type { Context } from 'hono'
import { HTTPException } from 'hono/http-exception'
import { HeraldError, toHeraldError } from '../../errors.js'
import type { Logger } from '../../logger.js'

/**
 * Errors of the Pusher HTTP API as Pusher answers them: the status (400 bad request, 401 bad
 * signature / unknown key / stale timestamp, 403 not allowed for this key, 404 unknown app,
 * 413 too large, 429 over the app's publish rate with `Retry-After`, 500) and a plain-text
 * explanation, which the `pusher` libraries put in their `RequestError.body`.
 */
export function pusherErrorResponse(c: Context, err: HeraldError): Response {
  const headers: Record<string, string> = { 'Content-Type': 'text/plain; charset=utf-8' }
  if (err.retryAfter !== undefined) headers['Retry-After'] = String(err.retryAfter)
  return c.body(`${err.message}\n`, err.status as 400, headers)
}

/** The `onError` of the Pusher routes. */
export function pusherOnError(logger: Logger) {
  return (err: Error, c: Context): Response => {
    if (err instanceof HeraldError) return pusherErrorResponse(c, err)
    if (err instanceof HTTPException) return pusherErrorResponse(c, new HeraldError(err.status === 413 ? 'too_large' : 'bad_request', err.message || 'Bad request'))
    logger.error({ err, path: c.req.path }, 'pusher api request failed')
    return pusherErrorResponse(c, toHeraldError(err))
  }
}
