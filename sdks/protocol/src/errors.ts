import { ErrorRecovery, isErrorCode } from './codes.js'

export interface HeraldProtocolErrorOptions {
  /** HTTP status of the answer, when there was one. */
  status?: number
  /** Whether trying again may succeed; by default from the code's {@link ErrorRecovery}. */
  retryable?: boolean
  cause?: unknown
}

/**
 * The base of every Herald error class (the SDKs' `HeraldError`, the dashboard's `ApiError`):
 * `code` is one of the contract's error codes, or a code of the SDK itself (`network`,
 * `timeout`, `disconnected`).
 *
 * @example
 * if (e instanceof HeraldProtocolError && e.code === 'rate_limited') retryLater()
 */
export class HeraldProtocolError<Code extends string = string> extends Error {
  readonly code: Code
  readonly status?: number
  readonly retryable?: boolean

  constructor(code: Code, message: string, options: HeraldProtocolErrorOptions = {}) {
    super(message, options.cause === undefined ? undefined : { cause: options.cause })
    this.name = 'HeraldProtocolError'
    this.code = code
    if (options.status !== undefined) this.status = options.status
    const retryable = options.retryable ?? (isErrorCode(code) ? ErrorRecovery[code] === 'retry' : undefined)
    if (retryable !== undefined) this.retryable = retryable
  }
}
