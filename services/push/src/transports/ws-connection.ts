import { CloseCodes, closeCodeFor, isPresenceChannel, type ClientFrame, type ServerFrame } from '@herald/protocol'
import type { WebSocket } from 'ws'
import type { App } from '../apps/types.js'
import { authorize } from '../auth/authorize.js'
import { msUntilExpiry, verifyClientToken } from '../auth/jwt.js'
import { keyIdOf, presenceMember, type Identity } from '../auth/identity.js'
import type { NodeContext } from '../context.js'
import type { EncodedMessage, EncodedPresence } from '../engine/encoded.js'
import { ChannelSubscription } from '../engine/subscription.js'
import { badRequest, forbidden, HeraldError, notFound, toHeraldError } from '../errors.js'
import { parseClientFrame, refOf } from './client-frames.js'
import { newConnectionId, type Connection } from './transport.js'
import { TURN_ALLOWANCE_BYTES } from '../engine/send-bound.js'
import { frameText, rawSocket, scheduleFlush, type Flushable } from './ws-wire.js'
import type { Socket } from 'node:net'

/** Frames a connection may have waiting to be processed before it counts as a flood. */
const MAX_PENDING_FRAMES = 256
const MAX_HISTORY_LIMIT = 1000

type Ref = string | number | undefined

/**
 * One WebSocket client: its identity, subscriptions and frame handling. Frames are handled
 * one after another, so replies keep the order of requests.
 */
export class WsConnection implements Connection, Flushable {
  readonly id = newConnectionId()
  readonly transport = 'websocket' as const
  alive = true
  private readonly subs = new Map<string, ChannelSubscription>()
  private chain: Promise<void> = Promise.resolve()
  private pendingFrames = 0
  private expiryTimer: NodeJS.Timeout | undefined
  private closed = false
  private out: Buffer[] = []
  private outBytes = 0
  private readonly socket: Socket

  constructor(
    private readonly ctx: NodeContext,
    private readonly ws: WebSocket,
    readonly appId: string,
    private identity: Identity,
  ) {
    this.socket = rawSocket(ws)
    this.armExpiry()
  }

  get keyId(): string | undefined {
    return keyIdOf(this.identity)
  }

  get clientId(): string | undefined {
    return this.identity.kind === 'token' ? this.identity.clientId : undefined
  }

  // ---- output ------------------------------------------------------------------------

  /**
   * Queues a complete frame; frames queued in one turn of the event loop are written together.
   * A client whose bytes from earlier turns are still unsent past the bound is closed with 4008
   * instead of growing memory.
   */
  sendWire(frame: Buffer): void {
    if (this.closed) return
    this.out.push(frame)
    this.outBytes += frame.length
    // Slow: what earlier turns wrote is still not sent past the bound, or this one turn queued
    // more than any legal burst. A burst the client reads fine (one batch of 100 × 64 KiB can
    // be larger than the bound) is not a slow consumer.
    if (this.socket.writableLength > this.ctx.config.sendBufferBytes || this.outBytes > this.ctx.config.sendBufferBytes + TURN_ALLOWANCE_BYTES) {
      this.out = []
      this.outBytes = 0
      this.ctx.metrics.drops.inc({ app: this.appId, transport: 'websocket' })
      this.close(CloseCodes.rateLimited, 'too slow to keep up')
      return
    }
    if (this.out.length === 1) scheduleFlush(this)
  }

  /**
   * Writes what is queued in one writev: the frame buffers are shared by every subscriber of a
   * message, so they are handed to the socket as they are, never copied per socket (a stalled
   * socket then holds references, not copies).
   */
  flush(): void {
    if (this.out.length === 0 || this.socket.destroyed) return
    const frames = this.out
    this.out = []
    this.outBytes = 0
    if (frames.length === 1) {
      this.socket.write(frames[0]!)
      return
    }
    this.socket.cork()
    for (const frame of frames) this.socket.write(frame)
    this.socket.uncork()
  }

  send(frame: ServerFrame): void {
    this.sendWire(frameText(Buffer.from(JSON.stringify(frame))))
  }

  private sendError(err: HeraldError, ref: Ref, channel?: string): void {
    this.ctx.metrics.rejected.inc({ app: this.appId, transport: 'websocket', code: err.code })
    const frame: ServerFrame = { op: 'error', code: err.code, message: err.message }
    if (ref !== undefined) frame.ref = ref
    if (channel !== undefined) frame.channel = channel
    this.send(frame)
  }

  close(code: number, reason: string): void {
    if (this.closed) return
    this.flush()
    this.closed = true
    this.ws.close(code, reason.slice(0, 120))
    // A peer that does not read will never answer the close: do not keep its buffers.
    setTimeout(() => this.ws.terminate(), 2000).unref()
  }

  // ---- input -------------------------------------------------------------------------

  /** Queues one incoming frame. */
  receive(data: Buffer, isBinary: boolean): void {
    this.alive = true
    if (this.closed) return
    if (data.length > this.ctx.config.maxFrameBytes) {
      this.close(CloseCodes.frameTooLarge, `frame larger than ${this.ctx.config.maxFrameBytes} bytes`)
      return
    }
    if (++this.pendingFrames > MAX_PENDING_FRAMES) {
      this.close(CloseCodes.rateLimited, 'too many frames in flight')
      return
    }
    this.chain = this.chain.then(async () => {
      try {
        if (!this.closed) await this.handle(data, isBinary)
      } finally {
        this.pendingFrames--
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
      const app = await this.ctx.registry.app(this.appId)
      if (!app) {
        this.sendError(notFound('app no longer exists'), frame.ref)
        this.close(CloseCodes.appGone, 'app deleted')
        return
      }
      await this.dispatch(app, frame)
    } catch (err) {
      const e = toHeraldError(err)
      if (e.code === 'internal') this.ctx.logger.error({ err, op: frame.op, app: this.appId }, 'frame failed')
      this.sendError(e, frame.ref, 'channel' in frame ? frame.channel : undefined)
    }
  }

  private async dispatch(app: App, frame: ClientFrame): Promise<void> {
    const ref = frame.ref
    const withRef = <T extends object>(f: T) => (ref === undefined ? f : { ...f, ref })
    switch (frame.op) {
      case 'ping':
        this.send(withRef({ op: 'pong' as const }))
        return
      case 'subscribe':
        return this.subscribe(app, frame)
      case 'unsubscribe':
        await this.unsubscribe(frame.channel)
        this.send(withRef({ op: 'unsubscribed' as const, channel: frame.channel }))
        return
      case 'publish': {
        const input = this.ctx.publisher.validate(app, this.identity, frame)
        const [outcome] = await this.ctx.publisher.publish(app, [input])
        this.ctx.metrics.messagesIn.inc({ app: this.appId, via: 'websocket' })
        const m = outcome!.message
        this.send(withRef({ op: 'published' as const, channel: m.channel, id: m.id, seq: m.seq, epoch: m.epoch }))
        return
      }
      case 'history': {
        authorize(app, this.identity, frame.channel, 'history')
        const limit = Math.min(frame.limit ?? app.settings.historySize, MAX_HISTORY_LIMIT)
        const query = frame.after === undefined ? { limit } : { limit, after: frame.after }
        const h = await this.ctx.broker.history(this.appId, frame.channel, query)
        this.send(withRef({ op: 'history' as const, channel: frame.channel, epoch: h.epoch, messages: h.messages }))
        return
      }
      case 'members': {
        authorize(app, this.identity, frame.channel, 'members')
        const members = await this.ctx.broker.members(this.appId, frame.channel)
        this.send(withRef({ op: 'members' as const, channel: frame.channel, members }))
        return
      }
      case 'auth': {
        const next = await verifyClientToken(this.ctx.registry, app, frame.token).catch((err: unknown) => {
          this.ctx.metrics.authFailures.inc({ app: this.appId, transport: 'websocket', code: toHeraldError(err).code })
          throw err
        })
        const current = this.clientId
        if (current !== undefined && next.clientId !== current) throw forbidden('a refreshed token must keep the connection\'s sub (clientId)')
        this.identity = next
        this.armExpiry()
        this.send(withRef({ op: 'authed' as const, exp: next.exp }))
        return
      }
    }
  }

  private async subscribe(app: App, frame: Extract<ClientFrame, { op: 'subscribe' }>): Promise<void> {
    const { channel, ref } = frame
    authorize(app, this.identity, channel, 'subscribe')
    if (this.subs.has(channel)) throw badRequest(`already subscribed to ${channel}`)
    if (this.subs.size >= this.ctx.config.maxSubscriptionsPerConnection) {
      throw new HeraldError('limit_exceeded', `at most ${this.ctx.config.maxSubscriptionsPerConnection} subscriptions per connection`)
    }
    const sub = new ChannelSubscription(
      this.appId,
      channel,
      {
        subscribed: (info) => this.send(ref === undefined ? { op: 'subscribed', ...info } : { op: 'subscribed', ...info, ref }),
        message: (m: EncodedMessage) => this.sendWire(m.wsFrame),
        presence: (p: EncodedPresence) => this.sendWire(p.wsFrame),
      },
      this.ctx.hub,
      this.ctx.broker,
    )
    this.subs.set(channel, sub)
    this.ctx.metrics.subscriptions.inc({ app: this.appId, transport: 'websocket' })
    try {
      const options = { maxReplay: app.settings.historySize, ...(frame.since ? { since: frame.since } : {}), ...(frame.rewind ? { rewind: frame.rewind } : {}) }
      const replayed = await sub.start(options)
      this.ctx.hub.countDelivered(this.appId, replayed)
      const member = presenceMember(this.identity)
      if (isPresenceChannel(channel) && member) {
        await this.ctx.broker.addPresence(this.appId, channel, this.id, member)
        // The socket may have gone while we joined: do not leave a ghost member behind.
        if (this.subs.get(channel) !== sub) await this.ctx.broker.removePresence(this.appId, channel, this.id)
      }
    } catch (err) {
      await this.unsubscribe(channel)
      throw err
    }
  }

  private async unsubscribe(channel: string): Promise<void> {
    const sub = this.subs.get(channel)
    if (!sub) return
    this.subs.delete(channel)
    sub.stop()
    this.ctx.metrics.subscriptions.dec({ app: this.appId, transport: 'websocket' })
    if (isPresenceChannel(channel)) await this.ctx.broker.removePresence(this.appId, channel, this.id).catch(() => {})
  }

  // ---- lifecycle ---------------------------------------------------------------------

  private armExpiry(): void {
    clearTimeout(this.expiryTimer)
    if (this.identity.kind !== 'token') return
    this.expiryTimer = setTimeout(() => {
      this.sendError(new HeraldError('token_expired', 'token expired; reconnect or send an auth frame with a fresh token'), undefined)
      this.close(closeCodeFor('token_expired'), 'token expired')
    }, msUntilExpiry(this.identity.exp))
    this.expiryTimer.unref()
  }

  /** One heartbeat: a peer that did not answer the last ping (nor sent anything) is dropped. */
  heartbeat(): void {
    if (!this.alive) {
      this.ws.terminate()
      return
    }
    this.alive = false
    this.ws.ping()
  }

  /** Called once the socket is closed, whoever closed it. */
  cleanup(): void {
    this.closed = true
    clearTimeout(this.expiryTimer)
    for (const channel of [...this.subs.keys()]) void this.unsubscribe(channel)
  }
}
