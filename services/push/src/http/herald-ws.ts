import { CloseCodes, closeCodeFor } from '@herald/protocol'
import { WebSocketServer, type WebSocket } from 'ws'
import type { Identity } from '../auth/identity.js'
import type { NodeContext } from '../context.js'
import { ClientSession } from '../engine/session.js'
import { HeraldError, notFound, toHeraldError } from '../errors.js'
import { HeraldWsWire } from '../protocols/herald/ws.js'
import { originAllowed } from './cors.js'
import type { UpgradeRoute } from './protocols.js'

const PATH = /^\/v1\/apps\/([A-Za-z0-9_-]{1,64})\/ws$/

/**
 * The Herald WebSocket endpoint (`/v1/apps/:appId/ws`). The upgrade is always accepted for a
 * well-formed path, so that a browser sees why it was refused: an `error` frame and a
 * contract close code (`CloseCodes`: unauthorized for a bad token, forbidden for the origin, appGone for
 * an unknown app, rateLimited over the limit).
 * One timer pings the hub's WebSocket sessions.
 */
export class HeraldWsEndpoint {
  private readonly wss: WebSocketServer
  private heartbeat: NodeJS.Timeout | undefined

  constructor(private readonly ctx: NodeContext) {
    this.wss = new WebSocketServer({
      noServer: true,
      perMessageDeflate: false,
      // Frames past the node's limit get frameTooLarge from the wire; this only caps what ws buffers.
      maxPayload: ctx.config.maxFrameBytes * 2,
      clientTracking: false,
    })
  }

  upgrade(): UpgradeRoute {
    return {
      path: PATH,
      handle: (req, socket, head, match) => {
        const token = new URL(req.url ?? '/', 'http://localhost').searchParams.get('token')
        const { origin, host } = req.headers
        this.wss.handleUpgrade(req, socket, head, (ws) => void this.open(ws, match[1]!, token, origin, host))
      },
    }
  }

  /** Takes strings from the upgrade request, not the request: nothing keeps it alive with the connection. */
  private async open(ws: WebSocket, appId: string, token: string | null, origin: string | undefined, host: string | undefined): Promise<void> {
    const { engine, metrics } = this.ctx
    // From here on the wire keeps the frames that arrive while we authenticate, in order.
    const wire = new HeraldWsWire(this.ctx, ws)
    const refuse = (err: HeraldError, code: number, counted = false) => {
      if (!counted) metrics.rejected.inc({ app: appId, transport: 'websocket', code: err.code })
      ws.send(JSON.stringify({ op: 'error', code: err.code, message: err.message }))
      ws.close(code, err.message.slice(0, 120))
    }
    let session: ClientSession
    try {
      const app = await engine.app(appId)
      if (!app) return refuse(notFound('unknown app'), CloseCodes.appGone)
      if (!originAllowed(app.settings.allowedOrigins, origin, host)) {
        return refuse(new HeraldError('forbidden', 'origin not allowed for this app'), CloseCodes.forbidden)
      }
      let identity: Identity
      try {
        identity = await engine.identify(app, token, 'websocket')
      } catch (err) {
        const e = toHeraldError(err)
        return refuse(e, closeCodeFor(e.code))
      }
      if (ws.readyState !== ws.OPEN) return
      try {
        session = engine.open({ app, identity, wire })
      } catch (err) {
        return refuse(toHeraldError(err), CloseCodes.rateLimited, true)
      }
    } catch (err) {
      this.ctx.logger.error({ err, app: appId }, 'websocket open failed')
      return refuse(toHeraldError(err), CloseCodes.internal)
    }
    wire.bind(session)
  }

  /** Pings every WebSocket session of the hub; one that did not answer since the last beat is dropped. */
  start(): void {
    this.heartbeat = setInterval(() => {
      for (const s of this.ctx.engine.hub.sessions('websocket')) {
        if (s instanceof ClientSession && s.wire instanceof HeraldWsWire) s.wire.heartbeat()
      }
    }, this.ctx.config.heartbeatSeconds * 1000)
    this.heartbeat.unref()
  }

  stop(): void {
    clearInterval(this.heartbeat)
    this.wss.close()
  }
}
