import { WebSocket as WsWebSocket } from 'ws'

/**
 * The `ws` package's WebSocket for `@herald/client` (Node 20 has no global one). It gets a
 * permanent `error` listener: `ws` emits `error` when a socket still connecting is closed,
 * and the client detaches its own handlers first, which would leave that event unhandled.
 */
class QuietWebSocket extends WsWebSocket {
  constructor(url: string | URL, protocols?: string | string[]) {
    super(url, protocols)
    this.on('error', () => {})
  }
}

/** Typed as the DOM WebSocket, which is the interface the client uses. */
export const NodeWebSocket = QuietWebSocket as unknown as typeof WebSocket
