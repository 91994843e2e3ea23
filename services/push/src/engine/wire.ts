import type { ErrorCode } from '@herald/protocol'
import type { EncodedMessage, EncodedPresence } from './encoded.js'

/**
 * The kind of a wire, as metrics and the hub name it: `websocket`, `sse`, `longpoll` for the
 * Herald protocol; another protocol adds its own (`pusher-ws`, …).
 */
export type WireKind = string

/** Where a subscription starts, as a wire tells its client (`subscribed`). */
export interface SubscribedInfo {
  channel: string
  epoch: string
  seq: number
  /** Set when the client asked to resume (`since`): whether every missed message follows. */
  recovered?: boolean
}

/** An error the session reports to its client before it ends (token expired). */
export interface EndError {
  code: ErrorCode
  message: string
}

/**
 * What a {@link ClientSession} needs from its transport, and nothing more: a wire only parses
 * its framing and writes its bytes. The session decides what to send and when to end (slow
 * consumer, token expiry, key revoked, app deleted, shutdown); the wire decides how.
 *
 * Write methods return the number of bytes they queued (0 when nothing was written), so the
 * session can apply one slow-consumer bound to every wire ({@link Wire.bufferedBytes} plus
 * the per-turn allowance).
 */
export interface Wire {
  readonly kind: WireKind
  /**
   * Bytes handed to this wire and not yet taken by the kernel: the wire's own queue plus the
   * socket's / response's `writableLength`.
   */
  bufferedBytes(): number
  /** A message of one of the session's subscriptions (replayed or live), in order. */
  message(channel: string, m: EncodedMessage): number
  /** A presence event of a subscribed presence channel. */
  presence(channel: string, p: EncodedPresence): number
  /**
   * Ends the connection with a contract close code (a WebSocket close, an SSE `event: error`,
   * an HTTP error for a held poll) and a short reason. `error`, when given, is reported first
   * (WebSocket `error` frame) or instead of the code's own error (SSE `token_expired`).
   * Called once; the wire then calls {@link ClientSession.closed} when its transport is gone.
   */
  end(code: number, reason: string, error?: EndError): void
}
