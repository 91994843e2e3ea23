import type { NodeContext } from '../../context.js'
import type { Protocol } from '../../http/protocols.js'
import { PUSHER_WS_PATH, PusherWebSocketEndpoint } from './ws.js'
import { pusherXhrRoutes } from './xhr.js'

/**
 * The client side of the Pusher face: the WebSocket at `/app/:key` and pusher-js's HTTP
 * fallbacks under `/pusher`. (The Pusher HTTP API under `/apps` is its own protocol entry.)
 */
export function pusherSocketProtocol(ctx: NodeContext): Protocol {
  const ws = new PusherWebSocketEndpoint(ctx)
  return {
    name: 'pusher-socket',
    upgrades: [{ path: PUSHER_WS_PATH, handle: (req, socket, head, match) => ws.handle(req, socket, head, match) }],
    routes: [{ base: '/pusher', routes: pusherXhrRoutes(ctx) }],
    stop: () => ws.stop(),
  }
}
