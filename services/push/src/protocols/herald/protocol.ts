import { HeraldStreams } from '../../http/herald-streams.js'
import { HeraldWsEndpoint } from '../../http/herald-ws.js'
import type { ProtocolFactory } from '../../http/protocols.js'
import { WsOutput } from '../ws-output.js'

/** Herald's own protocol: WebSocket at `/v1/apps/:appId/ws`, SSE and long-poll under `/v1`. */
export const heraldProtocol: ProtocolFactory = (ctx) => {
  const ws = new HeraldWsEndpoint(ctx)
  const streams = new HeraldStreams(ctx)
  return {
    name: 'herald',
    upgrades: [ws.upgrade()],
    routes: [{ base: '/v1', routes: streams.routes() }],
    start: () => ws.start(),
    drain: () => WsOutput.terminateLingering(),
    stop: () => {
      ws.stop()
      streams.stop()
    },
  }
}
