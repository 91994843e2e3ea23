import type { IncomingMessage } from 'node:http'
import type { Socket } from 'node:net'
import type { Duplex } from 'node:stream'
import { PusherCloseCodes, PusherErrorCodes } from '@herald/protocol'
import { WebSocketServer, type WebSocket } from 'ws'
import type { NodeContext } from '../../context.js'
import { frameText, rawSocket, scheduleFlush, type Flushable } from '../../transports/ws-wire.js'
import { originAllowed } from '../../http/cors.js'
import { toHeraldError } from '../../errors.js'
import { PusherConnection, type PusherOutput } from './connection.js'
import { pusherWsFormat } from './format.js'
import { pusherError } from './frames.js'
import { newSocketId } from './socket-id.js'
import { admitPusherClient } from './admit.js'

/** The path pusher-js opens: `/app/<key>?protocol=7&client=js&version=…`. */
export const PUSHER_WS_PATH = /^\/app\/([^/?]{1,128})$/

/** A peer that did not close within this after our close frame is cut. */
const CLOSE_GRACE_MS = 2000

/** One Pusher WebSocket as the connection's byte sink: frames are built once and shared, written per turn. */
class WsOutput implements PusherOutput<Buffer>, Flushable {
  readonly kind = 'pusher-ws'
  readonly format = pusherWsFormat
  private out: Buffer[] = []
  private outBytes = 0
  private closed = false
  private readonly socket: Socket

  constructor(private readonly ws: WebSocket) {
    this.socket = rawSocket(ws)
  }

  frame(text: string): Buffer {
    return frameText(Buffer.from(text))
  }

  write(chunk: Buffer): number {
    if (this.closed) return 0
    this.out.push(chunk)
    this.outBytes += chunk.length
    if (this.out.length === 1) scheduleFlush(this)
    return chunk.length
  }

  flush(): void {
    if (this.out.length === 0 || this.socket.destroyed) return
    const frames = this.out
    this.out = []
    this.outBytes = 0
    this.socket.cork()
    for (const f of frames) this.socket.write(f)
    this.socket.uncork()
  }

  bufferedBytes(): number {
    return this.outBytes + this.socket.writableLength
  }

  close(code: number, reason: string): void {
    if (this.closed) return
    this.flush()
    this.closed = true
    this.ws.close(code, reason.slice(0, 120))
    setTimeout(() => this.ws.terminate(), CLOSE_GRACE_MS).unref()
  }
}

/**
 * The Pusher WebSocket endpoint. The upgrade is accepted for every well-formed path, so that a
 * refusal (unknown or revoked key, unsupported protocol, full app) is a `pusher:error` and a
 * Pusher close code inside the socket: pusher-js gives up on 4001–4099, while it retries an
 * upgrade refused at the HTTP level.
 */
export class PusherWebSocketEndpoint {
  private readonly wss: WebSocketServer

  constructor(private readonly ctx: NodeContext) {
    this.wss = new WebSocketServer({ noServer: true, perMessageDeflate: false, maxPayload: ctx.config.maxFrameBytes * 2, clientTracking: false })
  }

  handle(req: IncomingMessage, socket: Duplex, head: Buffer, match: RegExpExecArray): void {
    const key = decodeURIComponent(match[1]!)
    this.wss.handleUpgrade(req, socket, head, (ws) => void this.open(ws, req, key))
  }

  private async open(ws: WebSocket, req: IncomingMessage, key: string): Promise<void> {
    const early: string[] = []
    const keep = (data: Buffer) => early.push(data.toString('utf8'))
    ws.on('message', keep)
    ws.on('error', () => ws.terminate())
    const refuse = (code: number, message: string) => {
      ws.send(pusherError(code, message))
      ws.close(code, message.slice(0, 120))
    }
    const out = new WsOutput(ws)
    let conn: PusherConnection<Buffer>
    try {
      const query = new URL(req.url ?? '/', 'http://localhost').searchParams
      const admitted = await admitPusherClient(this.ctx, key, query.get('protocol'))
      if ('refused' in admitted) return refuse(admitted.refused, admitted.message)
      const { app, cached } = admitted
      if (!originAllowed(app.settings.allowedOrigins, req.headers.origin, req.headers.host)) return refuse(PusherCloseCodes.unauthorized, 'origin not allowed for this app')
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
    const session = conn.session
    ws.off('message', keep)
    ws.on('message', (data: Buffer, isBinary: boolean) => {
      if (!isBinary) conn.receive(data.toString('utf8'))
      else out.write(out.frame(pusherError(PusherErrorCodes.badFrame, 'binary frames are not supported; send JSON text')))
    })
    // Pusher's activity check: a socket silent for activity_timeout gets a pusher:ping; one still
    // silent a beat later is closed with 4201 (pusher-js reconnects at once).
    let pinged = false
    const activity = setInterval(() => {
      if (conn.active) {
        conn.active = false
        pinged = false
      } else if (!pinged) {
        pinged = true
        out.write(out.frame('{"event":"pusher:ping","data":"{}"}'))
      } else conn.endPusher(PusherCloseCodes.pongNotReceived, 'no pong received')
    }, this.ctx.config.heartbeatSeconds * 1000)
    activity.unref()
    ws.on('close', (code: number, reason: Buffer) => {
      clearInterval(activity)
      session.closed(code, reason.toString())
    })
    for (const text of early) conn.receive(text)
  }

  stop(): void {
    this.wss.close()
  }
}
