/** Error codes of the Herald contract, on every endpoint and in every `error` frame. */
export const ErrorCodes = [
  'bad_request',
  'unauthorized',
  'token_expired',
  'forbidden',
  'not_found',
  'too_large',
  'rate_limited',
  'limit_exceeded',
  'internal',
] as const

export type ErrorCode = (typeof ErrorCodes)[number]

/** HTTP status for each error code. */
export const HttpStatus: Record<ErrorCode, number> = {
  bad_request: 400,
  unauthorized: 401,
  token_expired: 401,
  forbidden: 403,
  not_found: 404,
  too_large: 413,
  rate_limited: 429,
  limit_exceeded: 429,
  internal: 500,
}

/** WebSocket close codes. The 40xx codes are terminal until the cause is fixed. */
export const CloseCodes = {
  normal: 1000,
  goingAway: 1001,
  internal: 1011,
  unauthorized: 4001,
  forbidden: 4003,
  appGone: 4004,
  rateLimited: 4008,
  frameTooLarge: 4009,
} as const

export type CloseCode = (typeof CloseCodes)[keyof typeof CloseCodes]

/**
 * Whether a client should reconnect after this close code without changing anything.
 * 4001 is special: a client with a token source fetches a fresh token once and retries.
 */
export function isReconnectableClose(code: number): boolean {
  return code < 4000 || code >= 5000
}

/** The close code a fatal error of a given code ends a WebSocket with. */
export function closeCodeFor(code: ErrorCode): number {
  switch (code) {
    case 'unauthorized':
    case 'token_expired':
      return CloseCodes.unauthorized
    case 'forbidden':
      return CloseCodes.forbidden
    case 'not_found':
      return CloseCodes.appGone
    case 'rate_limited':
    case 'limit_exceeded':
      return CloseCodes.rateLimited
    case 'too_large':
      return CloseCodes.frameTooLarge
    default:
      return CloseCodes.internal
  }
}

/** The error code that matches a contract close code (the reverse of {@link closeCodeFor}), for transports that report closes as errors (SSE, poll). */
export function errorCodeForClose(closeCode: number): ErrorCode {
  switch (closeCode) {
    case CloseCodes.unauthorized:
      return 'unauthorized'
    case CloseCodes.forbidden:
      return 'forbidden'
    case CloseCodes.appGone:
      return 'not_found'
    case CloseCodes.rateLimited:
      return 'rate_limited'
    case CloseCodes.frameTooLarge:
      return 'too_large'
    default:
      return 'internal'
  }
}

export interface ErrorBody {
  error: { code: ErrorCode; message: string }
}
