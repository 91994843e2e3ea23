import type { ProtocolFactory } from '../../http/protocols.js'
import { pusherHttpRoutes } from './http-api.js'

/** The Pusher HTTP API (`/apps/:appId/…`, docs/pusher.md) as a protocol of the node: routes only. */
export const pusherHttpProtocol: ProtocolFactory = (ctx) => ({
  name: 'pusher-http',
  routes: [{ base: '/apps', routes: pusherHttpRoutes(ctx) }],
})
