import { PusherCloseCodes } from '@herald/protocol'
import { WebSocketServer, type WebSocket } from 'ws'
import type { NodeContext } from '../context.js'
import { ClientSession } from '../engine/session.js'
import { toHeraldError } from '../errors.js'
import { admitPusherClient } from '../protocols/pusher/admit.js'
import { PusherConnection } from '../protocols/pusher/connection.js'
import { pusherError, pusherEvent } from '../protocols/pusher/frames.js'
import { newSocketId } from '../protocols/pusher/socket-id.js'
import { PusherWsOutput } from '../protocols/pusher/ws.js'
import { originAllowed } from './cors.js'
import type { UpgradeRoute } from './protocols.js'

/** The path pusher-js opens: `/app/<key>?protocol=7&client=js&version=…`. */
const PATH = /^\/app\/([^/?]{1,128})$/
const PING = pusherEvent('pusher:ping', undefined, {})

/**
 * The Pusher WebSocket endpoint (`/app/:key`). The upgrade is accepted for every well-formed
 * path, so that a refusal (unknown or revoked key, unsupported protocol, full app) is a
 * `pusher:error` and a Pusher close code inside the socket: pusher-js gives up on 4001–4099,
 * while it retries an upgrade refused at the HTTP level. One timer runs Pusher's activity
 * check over the hub's Pusher sockets.
 */
export class PusherWsEndpoint {
  private readonly wss: WebSocketServer
  private timer: NodeJS.Timeout | undefined

  constructor(private readonly ctx: NodeContext) {
    this.wss = new WebSocketServer({ noServer: true, perMessageDeflate: false, maxPayload: ctx.config.maxFrameBytes * 2, clientTracking: false })
  }

  upgrade(): UpgradeRoute {
    return {
      path: PATH,
      handle: (req, socket, head, match) => {
        const protocol = new URL(req.url ?? '/', 'http://localhost').searchParams.get('protocol')
        const { origin, host } = req.headers
        this.wss.handleUpgrade(req, socket, head, (ws) => void this.open(ws, decodeURIComponent(match[1]!), protocol, origin, host))
      },
    }
  }

  /** Takes strings from the upgrade request, not the request: nothing keeps it alive with the connection. */
  private async open(ws: WebSocket, key: string, protocol: string | null, origin: string | undefined, host: string | undefined): Promise<void> {
    // From here on the output keeps the frames that arrive while we admit the client, in order.
    const out = new PusherWsOutput(ws, this.ctx.logger)
    const refuse = (code: number, message: string) => {
      ws.send(pusherError(code, message))
      ws.close(code, message.slice(0, 120))
    }
    let conn: PusherConnection<Buffer>
    try {
      const admitted = await admitPusherClient(this.ctx, key, protocol)
      if ('refused' in admitted) return refuse(admitted.refused, admitted.message)
      const { app, cached } = admitted
      if (!originAllowed(app.settings.allowedOrigins, origin, host)) return refuse(PusherCloseCodes.unauthorized, 'origin not allowed for this app')
      if (ws.readyState !== ws.OPEN) return
      conn = new PusherConnection(this.ctx, out, app, newSocketId(), cached.key.keyId, cached.capability)
      try {
        conn.open(app, this.ctx.config.heartbeatSeconds)
      } catch (err) {
        const e = toHeraldError(err)
        return refuse(e.code === 'limit_exceeded' ? PusherCloseCodes.overConnectionQuota : PusherCloseCodes.overCapacity, e.message)
      }
    } catch (err) {
      this.ctx.logger.error({ err }, 'pusher websocket open failed')
      return refuse(PusherCloseCodes.overCapacity, 'internal error')
    }
    out.listen(conn)
  }

  /**
   * Pusher's activity check, once per `activity_timeout`: a socket silent for a whole interval
   * gets a `pusher:ping`; one still silent at the next is closed with 4201 (pusher-js reconnects).
   */
  start(): void {
    this.timer = setInterval(() => {
      for (const s of this.ctx.engine.hub.sessions('pusher-ws')) {
        if (!(s instanceof ClientSession) || !(s.wire instanceof PusherConnection)) continue
        const conn = s.wire as PusherConnection<Buffer>
        if (conn.active) {
          conn.active = false
          conn.pinged = false
        } else if (!conn.pinged) {
          conn.pinged = true
          conn.sendText(PING)
        } else conn.endPusher(PusherCloseCodes.pongNotReceived, 'no pong received')
      }
    }, this.ctx.config.heartbeatSeconds * 1000)
    this.timer.unref()
  }

  stop(): void {
    clearInterval(this.timer)
    this.wss.close()
  }
}
