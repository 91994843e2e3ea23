import { type ErrorCode, errorCodeForStatus, HeraldProtocolError, isErrorCode } from '@herald/protocol'

/**
 * The `code` of a {@link HeraldError}: one of the contract's error codes, or
 * - `network`: the request never got an HTTP answer (connection refused or reset,
 *   DNS failure, socket closed before the response);
 * - `timeout`: no complete answer within `timeoutMs`.
 */
export type HeraldErrorCode = ErrorCode | 'network' | 'timeout'

export interface HeraldErrorOptions {
  /** HTTP status; 0 when there was no HTTP answer (`network`, `timeout`). */
  status?: number
  /** Seconds the server asked to wait (`Retry-After`), on 429. */
  retryAfter?: number
  cause?: unknown
}

/**
 * Every failure of the SDK. `code` is the contract's code from the error body, or
 * `network` / `timeout` for transport failures.
 *
 * @example
 * try { await herald.publish('chat', 1) } catch (e) {
 *   if (e instanceof HeraldError && e.code === 'rate_limited') console.log(e.retryAfter)
 * }
 */
export class HeraldError extends HeraldProtocolError<HeraldErrorCode> {
  override readonly name = 'HeraldError'
  override readonly status: number
  /** Transport failures, 5xx, and 429 `rate_limited` (or any 429 carrying `Retry-After`); other 4xx are the caller's to fix. */
  override readonly retryable: boolean
  readonly retryAfter?: number

  constructor(code: HeraldErrorCode, message: string, options: HeraldErrorOptions = {}) {
    const status = options.status ?? 0
    const retryable = retryableFailure(code, status, options.retryAfter)
    super(code, message, options.cause === undefined ? { status, retryable } : { status, retryable, cause: options.cause })
    this.status = status
    this.retryable = retryable
    if (options.retryAfter !== undefined) this.retryAfter = options.retryAfter
  }
}

function retryableFailure(code: HeraldErrorCode, status: number, retryAfter: number | undefined): boolean {
  if (code === 'network' || code === 'timeout') return true
  if (status >= 500) return true
  if (status === 429) return code === 'rate_limited' || retryAfter !== undefined
  return false
}

/**
 * `Retry-After` in seconds: a number of seconds or an HTTP date; undefined when absent or unreadable.
 *
 * @example
 * parseRetryAfter('2') // 2
 */
export function parseRetryAfter(value: string | null | undefined, now = Date.now()): number | undefined {
  if (value == null) return undefined
  const text = value.trim()
  if (/^\d+(\.\d+)?$/.test(text)) return Number(text)
  const date = Date.parse(text)
  if (Number.isNaN(date)) return undefined
  return Math.max(0, Math.ceil((date - now) / 1000))
}

/** Builds the error of a non-2xx response from its `{"error":{"code","message"}}` body. */
export function errorFromResponse(status: number, bodyText: string, retryAfterHeader: string | null): HeraldError {
  let code: ErrorCode = errorCodeForStatus(status)
  let message = `HTTP ${status}`
  try {
    const body = JSON.parse(bodyText) as { error?: { code?: unknown; message?: unknown } }
    const err = body?.error
    if (err && isErrorCode(err.code)) code = err.code
    if (err && typeof err.message === 'string') message = err.message
  } catch {
    if (bodyText.length > 0) message = `HTTP ${status}: ${bodyText.slice(0, 200)}`
  }
  const retryAfter = parseRetryAfter(retryAfterHeader)
  return new HeraldError(code, message, retryAfter === undefined ? { status } : { status, retryAfter })
}
