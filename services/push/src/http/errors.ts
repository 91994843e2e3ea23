import type { Context } from 'hono'
import { HTTPException } from 'hono/http-exception'
import { HeraldError, toHeraldError } from '../errors.js'
import type { Logger } from '../logger.js'

/** Answers an error with its status and `{"error":{"code","message"}}` (and `Retry-After` on 429). */
export function errorResponse(c: Context, err: HeraldError): Response {
  const headers: Record<string, string> = {}
  if (err.retryAfter !== undefined) headers['Retry-After'] = String(err.retryAfter)
  return c.json(err.toBody(), err.status as 400, headers)
}

/** The app-wide `onError`: contract errors as they are, Hono's own mapped, the rest `internal`. */
export function onError(logger: Logger) {
  return (err: Error, c: Context): Response => errorResponse(c, answerOf(err, logger, c.req.path))
}

/** What a request that failed with `err` is answered (unknown errors are logged and answered `internal`). */
export function answerOf(err: unknown, logger: Logger, path: string): HeraldError {
  if (err instanceof HeraldError) return err
  if (err instanceof HTTPException) {
    const status = err.status
    const code = status === 413 ? 'too_large' : status === 401 ? 'unauthorized' : status === 404 ? 'not_found' : 'bad_request'
    const message = status === 400 && /JSON/i.test(err.message) ? 'body is not valid JSON' : err.message || 'bad request'
    return new HeraldError(code, message)
  }
  // JSON nested so deep that validating or serialising it overflows the stack: the input's fault.
  if (err instanceof RangeError && /call stack/i.test(err.message)) return new HeraldError('bad_request', 'JSON nested too deeply')
  logger.error({ err, path }, 'request failed')
  return toHeraldError(err)
}
