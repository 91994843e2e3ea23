import { PusherWsEndpoint } from '../../http/pusher-ws.js'
import { pusherXhrRoutes } from '../../http/pusher-xhr.js'
import type { ProtocolFactory } from '../../http/protocols.js'

/**
 * The client side of the Pusher face: the WebSocket at `/app/:key` and pusher-js's HTTP
 * fallbacks under `/pusher`. (The Pusher HTTP API under `/apps` is its own protocol entry.)
 */
export const pusherSocketProtocol: ProtocolFactory = (ctx) => {
  const ws = new PusherWsEndpoint(ctx)
  return {
    name: 'pusher-socket',
    upgrades: [ws.upgrade()],
    routes: [{ base: '/pusher', routes: pusherXhrRoutes(ctx) }],
    start: () => ws.start(),
    stop: () => ws.stop(),
  }
}
