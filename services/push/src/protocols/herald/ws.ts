import { CloseCodes, type ClientFrame, type ServerFrame } from '@herald/protocol'
import type { WebSocket } from 'ws'
import type { NodeContext } from '../../context.js'
import type { EncodedMessage, EncodedPresence } from '../../engine/encoded.js'
import { defineFormat } from '../../engine/format.js'
import type { ClientSession } from '../../engine/session.js'
import type { EndError, Wire } from '../../engine/wire.js'
import { badRequest, HeraldError, notFound, toHeraldError } from '../../errors.js'
import { frameText, type WsInput, WsOutput } from '../ws-output.js'
import { parseClientFrame, refOf } from './client-frames.js'

/** The chain of an idle connection: shared, so an idle connection holds no promise of its own. */
const IDLE: Promise<void> = Promise.resolve()

/** Frames a connection may have waiting to be processed before it counts as a flood. */
const MAX_PENDING_FRAMES = 256

/** A Herald WebSocket frame of a message / presence event: `{"op":"message",…}`, framed once per message. */
export const heraldWsFormat = defineFormat<Buffer>('herald-ws', {
  message: (m) => frameText(Buffer.from('{"op":"message",' + m.json.slice(1))),
  presence: (p) => frameText(Buffer.from('{"op":"presence",' + p.json.slice(1))),
})

type Ref = string | number | undefined

/**
 * The Herald WebSocket wire (docs/protocol.md): parses client frames, hands them to its
 * session one after another (replies keep the order of requests) and writes server frames.
 */
export class HeraldWsWire extends WsOutput implements Wire, WsInput {
  readonly kind = 'websocket'
  alive = true
  private session!: ClientSession
  private chain: Promise<void> = IDLE
  private pendingFrames = 0

  constructor(
    private readonly ctx: NodeContext,
    ws: WebSocket,
  ) {
    super(ws, ctx.logger)
  }

  /** Starts serving a session: the `connected` frame, then the frames that came in meanwhile. */
  bind(session: ClientSession): void {
    this.session = session
    const clientId = session.clientId
    this.send({ op: 'connected', connectionId: session.id, heartbeat: this.ctx.config.heartbeatSeconds, ...(clientId ? { clientId } : {}) })
    this.listen(this)
  }

  // ---- WsInput -----------------------------------------------------------------------

  socketFrame(data: Buffer, isBinary: boolean): void {
    this.receive(data, isBinary)
  }

  socketClosed(code: number, reason: string): void {
    this.session.closed(code, reason)
  }

  socketPong(): void {
    this.alive = true
  }

  // ---- Wire --------------------------------------------------------------------------

  message(_channel: string, m: EncodedMessage): number {
    return this.write(m.as(heraldWsFormat))
  }

  presence(_channel: string, p: EncodedPresence): number {
    return this.write(p.as(heraldWsFormat))
  }

  end(code: number, reason: string, error?: EndError): void {
    if (error) {
      const message = error.code === 'token_expired' ? 'token expired; reconnect or send an auth frame with a fresh token' : error.message
      this.sendError(new HeraldError(error.code, message), undefined)
    }
    this.close(code, reason, { discard: code === CloseCodes.rateLimited })
    this.session.closed(code, reason)
  }

  // ---- output ------------------------------------------------------------------------

  private send(frame: ServerFrame): void {
    this.session.account(this.write(frameText(Buffer.from(JSON.stringify(frame)))))
  }

  private sendError(err: HeraldError, ref: Ref, channel?: string): void {
    this.ctx.metrics.rejected.inc({ app: this.session.appId, transport: this.kind, code: err.code })
    const frame: ServerFrame = { op: 'error', code: err.code, message: err.message }
    if (ref !== undefined) frame.ref = ref
    if (channel !== undefined) frame.channel = channel
    this.send(frame)
  }

  // ---- input -------------------------------------------------------------------------

  /** Queues one incoming frame. */
  receive(data: Buffer, isBinary: boolean): void {
    this.alive = true
    const session = this.session
    if (session.ended) return
    if (data.length > this.ctx.config.maxFrameBytes) {
      session.close(CloseCodes.frameTooLarge, `frame larger than ${this.ctx.config.maxFrameBytes} bytes`)
      return
    }
    if (++this.pendingFrames > MAX_PENDING_FRAMES) {
      session.close(CloseCodes.rateLimited, 'too many frames in flight')
      return
    }
    this.chain = this.chain.then(async () => {
      try {
        if (!session.ended) await this.handle(data, isBinary)
      } finally {
        // The last queued frame is done: nothing is left to order after.
        if (--this.pendingFrames === 0) this.chain = IDLE
      }
    })
  }

  private async handle(data: Buffer, isBinary: boolean): Promise<void> {
    const text = data.toString('utf8')
    let frame: ClientFrame
    try {
      if (isBinary) throw badRequest('binary frames are not supported; send JSON text')
      frame = parseClientFrame(text)
    } catch (err) {
      this.sendError(toHeraldError(err), isBinary ? undefined : refOf(text))
      return
    }
    try {
      const app = await this.ctx.engine.app(this.session.appId)
      if (!app) {
        this.sendError(notFound('app no longer exists'), frame.ref)
        this.session.close(CloseCodes.appGone, 'app deleted')
        return
      }
      this.session.app = app
      await this.dispatch(frame)
    } catch (err) {
      const e = toHeraldError(err)
      if (e.code === 'internal') this.ctx.logger.error({ err, op: frame.op, app: this.session.appId }, 'frame failed')
      this.sendError(e, frame.ref, 'channel' in frame ? frame.channel : undefined)
    }
  }

  private async dispatch(frame: ClientFrame): Promise<void> {
    const { ref } = frame
    const session = this.session
    const withRef = <T extends object>(f: T) => (ref === undefined ? f : { ...f, ref })
    switch (frame.op) {
      case 'ping':
        return this.send(withRef({ op: 'pong' as const }))
      case 'subscribe': {
        const { since, rewind } = frame
        await session.subscribe(frame.channel, {
          ...(since ? { since } : {}),
          ...(rewind ? { rewind } : {}),
          subscribed: (info) => this.send(withRef({ op: 'subscribed' as const, ...info })),
        })
        return
      }
      case 'unsubscribe':
        await session.unsubscribe(frame.channel)
        return this.send(withRef({ op: 'unsubscribed' as const, channel: frame.channel }))
      case 'publish': {
        const { message: m } = await session.publish(frame)
        return this.send(withRef({ op: 'published' as const, channel: m.channel, id: m.id, seq: m.seq, epoch: m.epoch }))
      }
      case 'history': {
        const h = await session.history(frame.channel, {
          ...(frame.limit === undefined ? {} : { limit: frame.limit }),
          ...(frame.after === undefined ? {} : { after: frame.after }),
        })
        return this.send(withRef({ op: 'history' as const, channel: frame.channel, epoch: h.epoch, messages: h.messages }))
      }
      case 'members': {
        const members = await session.members(frame.channel)
        return this.send(withRef({ op: 'members' as const, channel: frame.channel, members }))
      }
      case 'auth': {
        const next = await this.ctx.engine.identify(session.app, frame.token, this.kind)
        session.refresh(next)
        return this.send(withRef({ op: 'authed' as const, exp: next.kind === 'token' ? next.exp : 0 }))
      }
    }
  }

  /** One heartbeat: a peer that did not answer the last ping (nor sent anything) is dropped. */
  heartbeat(): void {
    if (!this.alive) {
      this.terminate()
      return
    }
    this.alive = false
    this.ping()
  }
}
