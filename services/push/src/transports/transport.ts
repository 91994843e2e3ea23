import { randomBytes } from 'node:crypto'

/** A new connection id: `c_` + 12 random bytes, base64url. */
export const newConnectionId = (): string => 'c_' + randomBytes(12).toString('base64url')

export type TransportName = 'websocket' | 'sse' | 'longpoll'

/**
 * A client connection as the hub sees it, whatever its transport. The hub uses it to count
 * connections and to close them (key revoked, app deleted, shutdown); messages reach the
 * client through the {@link Sink}s of its subscriptions.
 */
export interface Connection {
  readonly id: string
  readonly appId: string
  readonly transport: TransportName
  /** The key behind the connection's token (undefined when anonymous): revoking it closes the connection. */
  readonly keyId: string | undefined
  /** The Pusher user signed in on the connection (`pusher:signin`): `terminate_connections` closes it. */
  readonly userId?: string
  /** Ends the connection with a contract close code (WebSocket) or its HTTP/SSE equivalent. */
  close(code: number, reason: string): void
}
