import type { IncomingMessage } from 'node:http'
import type { UpgradeRoute } from '../http/protocols.js'
import { CloseCodes, closeCodeFor } from '@herald/protocol'
import { WebSocketServer, type WebSocket } from 'ws'
import { identifyClient } from '../auth/credentials.js'
import type { NodeContext } from '../context.js'
import { HeraldError, notFound, toHeraldError } from '../errors.js'
import { originAllowed } from '../http/cors.js'
import { WsConnection } from './ws-connection.js'

const PATH = /^\/v1\/apps\/([A-Za-z0-9_-]{1,64})\/ws$/

/**
 * The WebSocket transport (`/v1/apps/:appId/ws`). The upgrade is always accepted for a
 * well-formed path, so that a browser sees why it was refused: an `error` frame and a
 * contract close code (4001 bad token, 4003 origin, 4004 unknown app, 4008 over the limit).
 */
export class WebSocketTransport {
  private readonly wss: WebSocketServer
  private readonly conns = new Set<WsConnection>()
  private heartbeat: NodeJS.Timeout | undefined

  constructor(private readonly ctx: NodeContext) {
    this.wss = new WebSocketServer({
      noServer: true,
      perMessageDeflate: false,
      // Frames past the node's limit get 4009 from the connection; this only caps what ws buffers.
      maxPayload: ctx.config.maxFrameBytes * 2,
      clientTracking: false,
    })
  }

  upgrade(): UpgradeRoute {
    return { path: PATH, handle: (req, socket, head, match) => this.wss.handleUpgrade(req, socket, head, (ws) => void this.open(ws, req, match[1]!, new URL(req.url ?? '/', 'http://localhost').searchParams.get('token'))) }
  }

  start(): void {
    const interval = this.ctx.config.heartbeatSeconds * 1000
    this.heartbeat = setInterval(() => this.beat(), interval)
    this.heartbeat.unref()
  }

  private async open(ws: WebSocket, req: IncomingMessage, appId: string, token: string | null): Promise<void> {
    // Frames that arrive while we authenticate are kept, in order.
    const early: Array<[Buffer, boolean]> = []
    const keep = (data: Buffer, isBinary: boolean) => early.push([data, isBinary])
    ws.on('message', keep)
    ws.on('error', () => ws.terminate())
    const refuse = (err: HeraldError, code: number) => {
      this.ctx.metrics.rejected.inc({ app: appId, transport: 'websocket', code: err.code })
      ws.send(JSON.stringify({ op: 'error', code: err.code, message: err.message }))
      ws.close(code, err.message.slice(0, 120))
    }
    let conn: WsConnection
    try {
      const app = await this.ctx.registry.app(appId)
      if (!app) return refuse(notFound('unknown app'), CloseCodes.appGone)
      if (!originAllowed(app.settings.allowedOrigins, req.headers.origin, req.headers.host)) {
        return refuse(new HeraldError('forbidden', 'origin not allowed for this app'), CloseCodes.forbidden)
      }
      let identity
      try {
        identity = await identifyClient(this.ctx.registry, app, token)
      } catch (err) {
        const e = toHeraldError(err)
        this.ctx.metrics.authFailures.inc({ app: appId, transport: 'websocket', code: e.code })
        return refuse(e, closeCodeFor(e.code))
      }
      if (this.ctx.hub.sessionCount(appId) >= app.settings.maxConnections) {
        return refuse(new HeraldError('limit_exceeded', `the app allows ${app.settings.maxConnections} connections`), CloseCodes.rateLimited)
      }
      if (ws.readyState !== ws.OPEN) return
      conn = new WsConnection(this.ctx, ws, appId, identity)
    } catch (err) {
      this.ctx.logger.error({ err, app: appId }, 'websocket open failed')
      return refuse(toHeraldError(err), CloseCodes.internal)
    }

    this.conns.add(conn)
    this.ctx.hub.add(conn)
    this.ctx.metrics.connectionOpened(appId, 'websocket')
    ws.off('message', keep)
    ws.on('message', (data: Buffer, isBinary) => conn.receive(data, isBinary))
    ws.on('pong', () => (conn.alive = true))
    ws.on('close', () => {
      this.conns.delete(conn)
      this.ctx.hub.remove(conn)
      this.ctx.metrics.connectionClosed(appId, 'websocket')
      conn.cleanup()
    })
    const hello = { op: 'connected' as const, connectionId: conn.id, heartbeat: this.ctx.config.heartbeatSeconds, ...(conn.clientId ? { clientId: conn.clientId } : {}) }
    conn.send(hello)
    for (const [data, isBinary] of early) conn.receive(data, isBinary)
  }

  /** Pings every client; one that did not answer since the last beat is dropped. */
  private beat(): void {
    for (const conn of this.conns) conn.heartbeat()
  }

  /** Closes every connection with `code` (1001 on shutdown). */
  closeAll(code: number, reason: string): void {
    for (const conn of [...this.conns]) conn.close(code, reason)
  }

  get size(): number {
    return this.conns.size
  }

  stop(): void {
    clearInterval(this.heartbeat)
    this.wss.close()
  }
}
