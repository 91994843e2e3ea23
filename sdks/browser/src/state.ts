import type { TransportClose } from './transports/transport.js'

/** The connection states of a {@link Client}. `failed` is terminal until `connect()`. */
export type ConnectionState = 'connecting' | 'connected' | 'disconnected' | 'failed'

/** Context of the client's `state` event. */
export interface StateChange {
  previous: ConnectionState
  current: ConnectionState
  /** Why: `connect`, `reconnect`, `fallback`, `offline`, `closed`, an error code or message. */
  reason: string
  /** When a reconnect is scheduled: in how many ms. */
  retryIn?: number
}

/**
 * What to do after a transport ended:
 * - `auth`: fetch a fresh token once (`getToken`), then `failed`;
 * - `fatal`: `failed` (403/4003 forbidden, 404/4004 app gone, 4009 too large, 400 bad request);
 * - `retry`: reconnect with backoff (network loss, 1001, 1011, 4008, 429, 5xx);
 * - `fallback`: the transport never opened and Herald never answered (blocked, proxy,
 *   timeout): try the next transport at once.
 */
export type CloseAction = 'auth' | 'fatal' | 'retry' | 'fallback'

const FATAL: Record<string, 1> = { forbidden: 1, not_found: 1, too_large: 1, bad_request: 1 }
const ANSWERED: Record<string, 1> = { rate_limited: 1, limit_exceeded: 1, internal: 1 }

/**
 * Classifies a transport's end (see {@link CloseAction}).
 *
 * @example
 * closeAction({ opened: true, status: 4008, message: 'slow' }) // 'retry'
 */
export function closeAction({ opened, code, status }: TransportClose): CloseAction {
  if (code === 'unauthorized' || code === 'token_expired' || status === 4001 || status === 401) return 'auth'
  if ((code && FATAL[code]) || status === 4003 || status === 4004 || status === 4009) return 'fatal'
  if (opened || (code && ANSWERED[code]) || status === 4008 || status === 1001 || status === 1011) return 'retry'
  return 'fallback'
}

const CLOSE_CODES: Record<number, string> = { 4001: 'unauthorized', 4003: 'forbidden', 4004: 'not_found', 4008: 'rate_limited', 4009: 'too_large' }

/**
 * The `reason` a transport's end is reported with: Herald's error code when there is one
 * (from the answer, or named by the close code), else the message.
 *
 * @example
 * closeReason({ opened: true, status: 4004, message: 'app deleted' }) // 'not_found'
 */
export function closeReason({ code, status, message }: TransportClose): string {
  return code ?? (status !== undefined ? CLOSE_CODES[status] : undefined) ?? message
}
