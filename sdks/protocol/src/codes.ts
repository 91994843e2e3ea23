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

/**
 * What a client does after an error of a given code (or a close that reports one):
 * - `new_token`: fetch a fresh token once and retry; stop when that fails too;
 * - `stop`: terminal until the cause is fixed (bad request, forbidden, unknown app, too large);
 * - `retry`: try again with backoff.
 */
export type Recovery = 'new_token' | 'stop' | 'retry'

/** The {@link Recovery} of each error code. */
export const ErrorRecovery: Record<ErrorCode, Recovery> = {
  bad_request: 'stop',
  unauthorized: 'new_token',
  token_expired: 'new_token',
  forbidden: 'stop',
  not_found: 'stop',
  too_large: 'stop',
  rate_limited: 'retry',
  limit_exceeded: 'retry',
  internal: 'retry',
}

/** Whether a string is one of the contract's error codes. */
export function isErrorCode(code: unknown): code is ErrorCode {
  return typeof code === 'string' && (ErrorCodes as readonly string[]).includes(code)
}

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

/** What a close code means and what a client does after it (the contract's close-code table). */
export interface CloseMeaning {
  /** The error code the close reports (the 40xx codes only). */
  error?: ErrorCode
  /** What a client does next; absent for a normal close (nothing to recover from). */
  recovery?: Recovery
  meaning: string
}

/** The meaning of each contract close code. */
export const CloseMeanings: Record<CloseCode, CloseMeaning> = {
  [CloseCodes.normal]: { meaning: 'normal closure' },
  [CloseCodes.goingAway]: { recovery: 'retry', meaning: 'server going away (shutdown): reconnect, to another node, and resume' },
  [CloseCodes.internal]: { recovery: 'retry', meaning: 'internal error: reconnect with backoff and resume' },
  [CloseCodes.unauthorized]: { error: 'unauthorized', recovery: 'new_token', meaning: 'unauthorized or token expired: get a new token once, then stop' },
  [CloseCodes.forbidden]: { error: 'forbidden', recovery: 'stop', meaning: 'forbidden (origin not allowed): stop until fixed' },
  [CloseCodes.appGone]: { error: 'not_found', recovery: 'stop', meaning: 'app unknown or deleted: stop' },
  [CloseCodes.rateLimited]: { error: 'rate_limited', recovery: 'retry', meaning: 'rate limited, flood or too slow to keep up: reconnect with backoff' },
  [CloseCodes.frameTooLarge]: { error: 'too_large', recovery: 'stop', meaning: 'frame too large: stop until fixed' },
}

/**
 * The meaning of a WebSocket close code, or undefined for a code outside the contract
 * (e.g. 1006 from the browser after a network loss).
 *
 * @example
 * closeMeaning(4004)?.recovery // 'stop'
 */
export function closeMeaning(code: number): CloseMeaning | undefined {
  return Object.hasOwn(CloseMeanings, code) ? CloseMeanings[code as CloseCode] : undefined
}

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

/**
 * The contract code for an HTTP error status whose body is not a contract error (a proxy's
 * page, an empty reply).
 *
 * @example
 * errorCodeForStatus(404) // 'not_found'
 */
export function errorCodeForStatus(status: number): ErrorCode {
  switch (status) {
    case 400:
      return 'bad_request'
    case 401:
      return 'unauthorized'
    case 403:
      return 'forbidden'
    case 404:
      return 'not_found'
    case 413:
      return 'too_large'
    case 429:
      return 'rate_limited'
    default:
      return status >= 500 ? 'internal' : 'bad_request'
  }
}

/** The body of every HTTP error reply. */
export interface ErrorBody {
  error: { code: ErrorCode; message: string }
}
