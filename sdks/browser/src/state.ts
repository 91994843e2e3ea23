import { closeMeaning, ErrorRecovery } from '@herald/protocol'
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
 * - `auth`: fetch a fresh token once (`getToken`), then `failed` (unauthorized, token expired, HTTP 401);
 * - `fatal`: `failed` (an error or close code whose recovery is `stop`: bad request, forbidden,
 *   app gone, too large);
 * - `retry`: reconnect with backoff (network loss, going away, internal, rate limited, 429, 5xx);
 * - `fallback`: the transport never opened and Herald never answered (blocked, proxy,
 *   timeout): try the next transport at once.
 */
export type CloseAction = 'auth' | 'fatal' | 'retry' | 'fallback'

/**
 * Classifies a transport's end (see {@link CloseAction}).
 *
 * @example
 * closeAction({ opened: true, status: CloseCodes.rateLimited, message: 'slow' }) // 'retry'
 */
export function closeAction({ opened, code, status }: TransportClose): CloseAction {
  const byCode = code ? ErrorRecovery[code] : undefined
  const byClose = status !== undefined ? closeMeaning(status)?.recovery : undefined
  if (byCode === 'new_token' || byClose === 'new_token' || status === 401) return 'auth'
  if (byCode === 'stop' || byClose === 'stop') return 'fatal'
  if (opened || byCode === 'retry' || byClose === 'retry') return 'retry'
  return 'fallback'
}

/**
 * The `reason` a transport's end is reported with: Herald's error code when there is one
 * (from the answer, or named by the close code), else the message.
 *
 * @example
 * closeReason({ opened: true, status: CloseCodes.appGone, message: 'app deleted' }) // 'not_found'
 */
export function closeReason({ code, status, message }: TransportClose): string {
  return code ?? (status !== undefined ? closeMeaning(status)?.error : undefined) ?? message
}
