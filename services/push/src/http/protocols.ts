import type { IncomingMessage, Server } from 'node:http'
import type { Duplex } from 'node:stream'
import type { Hono, MiddlewareHandler } from 'hono'
import type { NodeContext } from '../context.js'

/** A WebSocket (or other `Upgrade`) endpoint of a protocol. */
export interface UpgradeRoute {
  /** Matched against the request path (without the query); its groups go to `handle`. */
  path: RegExp
  /** Takes the socket over (e.g. `wss.handleUpgrade`). Not called while the node drains (503). */
  handle(req: IncomingMessage, socket: Duplex, head: Buffer, match: RegExpExecArray): void
}

/** A group of HTTP routes of a protocol, mounted at `base` (`/v1`, `/apps`, `/pusher`). */
export interface RouteGroup {
  base: string
  // biome-ignore lint/suspicious/noExplicitAny: route groups carry their own Env (bindings, variables)
  routes: Hono<any, any, any>
  /** Middleware run before the group's routes, for paths under `base` matching `pattern` (default `base/*`). */
  middleware?: Array<{ pattern?: string; handler: MiddlewareHandler }>
}

/**
 * A client protocol of the node (Herald's own, Pusher Channels, …): its upgrade endpoints and
 * HTTP routes, built from the node context (its `engine`). `createNode` mounts every protocol's
 * routes in `createHttpApp` and dispatches upgrades through {@link attachUpgrades}.
 *
 * @example
 * export const pusherProtocol: ProtocolFactory = (ctx) => ({
 *   name: 'pusher',
 *   upgrades: [{ path: /^\/app\/([^/]+)$/, handle: (req, socket, head, m) => ws.accept(req, socket, head, m[1]!) }],
 *   routes: [{ base: '/apps', routes: pusherHttpRoutes(ctx) }, { base: '/pusher', routes: pusherXhrRoutes(ctx) }],
 *   stop: () => ws.stop(),
 * })
 * await createNode(config, { protocols: [heraldProtocol, pusherProtocol] })
 */
export interface Protocol {
  readonly name: string
  upgrades?: UpgradeRoute[]
  routes?: RouteGroup[]
  /** Called once the server listens (start timers). */
  start?(): void
  /** Called when shutdown begins, right after every session was closed (drop what would hold the server open). */
  drain?(): void
  /** Called on shutdown, after the server closed (stop timers, close servers). */
  stop?(): void
}

export type ProtocolFactory = (ctx: NodeContext) => Protocol

/**
 * Dispatches `Upgrade` requests to the protocols' upgrade routes: 404 for a path no protocol
 * has, 503 while draining.
 */
export function attachUpgrades(server: Server, protocols: readonly Protocol[], draining: () => boolean): void {
  const routes = protocols.flatMap((p) => p.upgrades ?? [])
  server.on('upgrade', (req: IncomingMessage, socket: Duplex, head: Buffer) => {
    const q = (req.url ?? '/').indexOf('?')
    const path = q < 0 ? (req.url ?? '/') : req.url!.slice(0, q)
    for (const route of routes) {
      const match = route.path.exec(path)
      if (!match) continue
      if (draining()) {
        socket.end('HTTP/1.1 503 Service Unavailable\r\nConnection: close\r\n\r\n')
        return
      }
      route.handle(req, socket, head, match)
      return
    }
    socket.end('HTTP/1.1 404 Not Found\r\nConnection: close\r\n\r\n')
  })
}
