import type { ProtocolFactory } from '../../http/protocols.js'
import { HttpStreams } from '../../transports/http-streams.js'
import { WebSocketTransport } from '../../transports/websocket.js'

/** Herald's own protocol: WebSocket at `/v1/apps/:appId/ws`, SSE and long-poll under `/v1`. */
export const heraldProtocol: ProtocolFactory = (ctx) => {
  const ws = new WebSocketTransport(ctx)
  const streams = new HttpStreams(ctx)
  return {
    name: 'herald',
    upgrades: [ws.upgrade()],
    routes: [{ base: '/v1', routes: streams.routes() }],
    start: () => ws.start(),
    stop: () => ws.stop(),
  }
}
