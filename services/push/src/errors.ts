import { type ErrorCode, HeraldProtocolError, HttpStatus } from '@herald/protocol'

/**
 * An error a client is told about: one of the contract's codes and a readable message.
 * Thrown anywhere below the transports; HTTP answers it with its status and
 * `{"error":{"code","message"}}`, WebSocket with an `error` frame (or a close).
 */
export class HeraldError extends HeraldProtocolError<ErrorCode> {
  override readonly status: number

  constructor(
    code: ErrorCode,
    message: string,
    /** Seconds, for 429 answers. */
    readonly retryAfter?: number,
  ) {
    super(code, message, { status: HttpStatus[code] })
    this.name = 'HeraldError'
    this.status = HttpStatus[code]
  }

  toBody() {
    return { error: { code: this.code, message: this.message } }
  }
}

export const badRequest = (message: string) => new HeraldError('bad_request', message)
export const unauthorized = (message: string) => new HeraldError('unauthorized', message)
export const forbidden = (message: string) => new HeraldError('forbidden', message)
export const notFound = (message: string) => new HeraldError('not_found', message)

/** Turns anything thrown into a HeraldError; unknown errors become `internal` without leaking details. */
export function toHeraldError(err: unknown): HeraldError {
  if (err instanceof HeraldError) return err
  return new HeraldError('internal', 'internal error')
}
