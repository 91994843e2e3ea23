import { type ErrorCode, HeraldProtocolError } from '@herald/protocol'

/** Codes the admin API answers with, plus `network` when no answer came at all. */
export type ApiErrorCode = ErrorCode | 'network'

/** An error reply (`{"error":{"code","message"}}`) or a failed request. */
export class ApiError extends HeraldProtocolError<ApiErrorCode | string> {
  override readonly status: number

  constructor(status: number, code: ApiErrorCode | string, message: string) {
    super(code, message, { status })
    this.status = status
    this.name = 'ApiError'
  }
}

const headlines: Record<ApiErrorCode, string> = {
  bad_request: 'The request was not accepted',
  unauthorized: 'Not authorised',
  token_expired: 'The token has expired',
  forbidden: 'Not allowed',
  not_found: 'Not found',
  too_large: 'Too large',
  rate_limited: 'Too many requests, try again shortly',
  limit_exceeded: 'A limit was reached',
  internal: 'The server had an internal error',
  network: 'Could not reach the Herald server',
}

/**
 * Puts any error into words for the user.
 * @example describeError(new ApiError(401, 'unauthorized', 'bad admin token')) // "Not authorised: bad admin token"
 */
export function describeError(err: unknown): string {
  if (err instanceof ApiError) {
    const head = headlines[err.code as ApiErrorCode] ?? `Error ${err.status || ''}`.trim()
    return err.message && err.message !== head ? `${head}: ${err.message}` : head
  }
  if (err instanceof Error) return err.message
  return String(err)
}
