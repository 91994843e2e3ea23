import type { ServerResponse } from 'node:http'
import { CloseCodes, encodeCursor, errorCodeForClose, isPresenceChannel, type CursorPositions, type ErrorCode, type Position } from '@herald/protocol'
import type { App } from '../apps/types.js'
import { msUntilExpiry } from '../auth/jwt.js'
import { keyIdOf, presenceMember, type Identity } from '../auth/identity.js'
import type { NodeContext } from '../context.js'
import type { EncodedMessage, EncodedPresence } from '../engine/encoded.js'
import { ChannelSubscription } from '../engine/subscription.js'
import { HeraldError } from '../errors.js'
import { currentTurn, TURN_ALLOWANCE_BYTES } from '../engine/send-bound.js'
import { newConnectionId, type Connection } from './transport.js'

export interface SseStreamOptions {
  /** `events=named`: a message with a `name` uses it as the event type. */
  named: boolean
  /** The `retry:` value sent first (ms). */
  retryMs: number
  /** The stream is ended (cleanly: the client resumes) after this long; 0 = never. */
  maxStreamMs: number
  /** Headers to add to the stream's response (CORS). */
  headers: Record<string, string>
}

type Queued = { kind: 'message'; m: EncodedMessage } | { kind: 'presence'; p: EncodedPresence }

interface SubscribedInfo {
  channel: string
  epoch: string
  seq: number
  recovered?: boolean
}

/**
 * One Server-Sent Events stream: a connection in the hub with a fixed set of channels,
 * written straight to the Node response.
 *
 * Opening subscribes every channel (through {@link ChannelSubscription}, so resume and dedupe
 * are the WebSocket's) while holding their events back; then it writes the headers, `retry:`,
 * one `subscribed` event per channel and what was held, and goes live. Every `message` event
 * carries `id: <cursor>` of all the stream's channels at that point, so `Last-Event-ID`
 * resumes the whole stream (and a poll). A `subscribed` event carries the cursor of the start.
 *
 * @example
 * const stream = new SseStream(ctx, res, app.id, identity, ['chat'], options, () => streams.delete(stream))
 * await stream.open(app, positionsFromLastEventId, 0)
 */
export class SseStream implements Connection {
  readonly id = newConnectionId()
  readonly transport = 'sse' as const
  private readonly subs = new Map<string, ChannelSubscription>()
  private readonly positions: CursorPositions = {}
  private readonly single: boolean
  private queue: Queued[] | null = []
  private readonly started = new Map<string, SubscribedInfo>()
  private joined: string[] = []
  private live = false
  private closed = false
  private cleaned = false
  /** Bytes written in the current turn of the event loop ({@link currentTurn}). */
  private turn = -1
  private turnBytes = 0
  private timers: NodeJS.Timeout[] = []

  constructor(
    private readonly ctx: NodeContext,
    private readonly res: ServerResponse,
    readonly appId: string,
    private readonly identity: Identity,
    readonly channels: readonly string[],
    private readonly options: SseStreamOptions,
    private readonly onClosed: (stream: SseStream) => void,
  ) {
    this.single = channels.length === 1
    res.on('close', () => this.cleanup())
  }

  get keyId(): string | undefined {
    return keyIdOf(this.identity)
  }

  /** Whether the stream has ended (or the client went away). */
  get ended(): boolean {
    return this.closed
  }

  /**
   * Subscribes, writes the stream's head and goes live. Throws (before anything is written)
   * when a subscription cannot start; the caller answers with an HTTP error then.
   */
  async open(app: App, since: CursorPositions | undefined, rewind: number): Promise<void> {
    const starts = this.channels.map((channel) => {
      const sub = new ChannelSubscription(
        this.appId,
        channel,
        {
          subscribed: (info) => this.started.set(channel, info),
          message: (m) => (this.queue ? this.queue.push({ kind: 'message', m }) : this.writeMessage(m)),
          presence: (p) => (this.queue ? this.queue.push({ kind: 'presence', p }) : this.write(p.sseFrame)),
        },
        this.ctx.hub,
        this.ctx.broker,
      )
      this.subs.set(channel, sub)
      this.ctx.metrics.subscriptions.inc({ app: this.appId, transport: 'sse' })
      const from = since?.[channel]
      return sub.start({ maxReplay: app.settings.historySize, ...(from ? { since: from } : rewind > 0 ? { rewind } : {}) })
    })
    let replayed: number[]
    try {
      replayed = await Promise.all(starts)
    } catch (err) {
      this.cleanup()
      throw err
    }
    if (this.closed) return
    this.ctx.hub.countDelivered(this.appId, replayed.reduce((a, b) => a + b, 0))
    this.writeHead(since)
    this.armTimers()
    await this.joinPresence()
  }

  private writeHead(since: CursorPositions | undefined): void {
    const queue = this.queue ?? []
    // Where each channel starts: its resume point, or for a rewind one before the first replayed message.
    for (const channel of this.channels) {
      const info = this.started.get(channel)!
      const from = since?.[channel]
      const position: Position = info.recovered === true && from ? { epoch: from.epoch, seq: from.seq } : { epoch: info.epoch, seq: info.seq }
      const first = queue.find((q): q is Extract<Queued, { kind: 'message' }> => q.kind === 'message' && q.m.message.channel === channel)
      if (first && first.m.message.epoch === position.epoch && first.m.message.seq - 1 < position.seq) position.seq = first.m.message.seq - 1
      this.positions[channel] = position
    }
    const retry = this.options.retryMs + Math.floor(Math.random() * this.options.retryMs)
    this.res.writeHead(200, {
      'Content-Type': 'text/event-stream',
      'Cache-Control': 'no-cache',
      'X-Accel-Buffering': 'no',
      Connection: 'keep-alive',
      ...this.options.headers,
    })
    const cursor = encodeCursor(this.positions)
    let head = `retry: ${retry}\n\n`
    for (const channel of this.channels) head += `event: subscribed\nid: ${cursor}\ndata: ${JSON.stringify(this.started.get(channel))}\n\n`
    this.live = true
    this.write(head)
    this.queue = null
    for (const q of queue) {
      if (q.kind === 'message') this.writeMessage(q.m)
      else this.write(q.p.sseFrame)
    }
  }

  private armTimers(): void {
    if (this.options.maxStreamMs > 0) {
      // Up to 10% earlier, so streams opened together do not all reconnect together.
      const ms = this.options.maxStreamMs * (0.9 + Math.random() * 0.1)
      this.timers.push(setTimeout(() => this.end(), ms))
    }
    if (this.identity.kind === 'token') {
      this.timers.push(setTimeout(() => this.fail('token_expired', 'token expired; reconnect with a fresh token'), msUntilExpiry(this.identity.exp)))
    }
    for (const t of this.timers) t.unref()
  }

  private async joinPresence(): Promise<void> {
    const member = presenceMember(this.identity)
    if (!member) return
    for (const channel of this.channels) {
      if (!isPresenceChannel(channel) || this.closed) continue
      this.joined.push(channel)
      try {
        await this.ctx.broker.addPresence(this.appId, channel, this.id, member)
      } catch (err) {
        this.ctx.logger.warn({ err, app: this.appId, channel }, 'sse presence join failed')
        this.fail('internal', 'could not join presence')
        return
      }
      // The client may have gone while we joined: leave no ghost member behind.
      if (this.cleaned) await this.ctx.broker.removePresence(this.appId, channel, this.id).catch(() => {})
    }
  }

  // ---- output ------------------------------------------------------------------------

  private writeMessage(m: EncodedMessage): void {
    const message = m.message
    const position = this.positions[message.channel]!
    position.epoch = message.epoch
    position.seq = message.seq
    if (this.single) this.write(m.sseSingle(this.options.named))
    else this.write(`event: ${m.sseEvent(this.options.named)}\nid: ${encodeCursor(this.positions)}\n${m.sseData}`)
  }

  /**
   * Writes bytes. A client is ended as a slow consumer when what earlier turns wrote is still
   * unsent past the bound, or one turn alone wrote more than any legal burst; a burst the
   * client reads fine (one batch can be larger than the bound) is not slow.
   */
  private write(chunk: string | Buffer): void {
    if (this.closed || !this.live) return
    const turn = currentTurn()
    if (turn !== this.turn) {
      this.turn = turn
      this.turnBytes = 0
    }
    const bound = this.ctx.config.sendBufferBytes
    if (this.res.writableLength - this.turnBytes > bound || this.turnBytes > bound + TURN_ALLOWANCE_BYTES) {
      this.ctx.metrics.drops.inc({ app: this.appId, transport: 'sse' })
      this.fail('rate_limited', 'too slow to keep up')
      return
    }
    this.turnBytes += typeof chunk === 'string' ? Buffer.byteLength(chunk) : chunk.length
    this.res.write(chunk)
  }

  /** The shared heartbeat: a comment line, which EventSource ignores and proxies see as traffic. */
  ping(): void {
    this.write(': ping\n\n')
  }

  /** Ends the stream with `event: error` (fatal: token expired, key revoked, app deleted, too slow). */
  fail(code: ErrorCode, message: string): void {
    if (this.closed) return
    if (this.live) this.res.write(`event: error\ndata: ${JSON.stringify({ code, message })}\n\n`)
    else return this.refuse(new HeraldError(code, message))
    this.end()
  }

  /** Closed by the hub while still subscribing: nothing was streamed yet, so answer a plain HTTP error. */
  private refuse(err: HeraldError): void {
    this.closed = true
    if (!this.res.headersSent) {
      this.res.writeHead(err.status, { 'Content-Type': 'application/json', ...this.options.headers })
      this.res.end(JSON.stringify(err.toBody()))
    } else {
      this.res.end()
    }
    this.cleanup()
  }

  /** Ends the stream without an error: the client reconnects and resumes from its last id. */
  end(): void {
    if (this.closed) return
    if (!this.live) return this.refuse(new HeraldError('internal', 'server going away'))
    this.closed = true
    this.res.end()
    // A peer that does not read never lets the end through: do not keep its buffers.
    setTimeout(() => this.res.destroy(), 2000).unref()
    this.cleanup()
  }

  /** The hub's close: 1001 ends the stream plainly (reconnect), the contract's 4xxx codes with `event: error`. */
  close(code: number, reason: string): void {
    if (code === CloseCodes.goingAway) {
      // Shutting down: let the socket go with the stream rather than wait as an idle keep-alive.
      this.res.once('finish', () => this.res.socket?.end())
      this.end()
      return
    }
    this.fail(errorCodeForClose(code), reason)
  }

  /** Frees everything at once, whoever ended the stream. */
  private cleanup(): void {
    if (this.cleaned) return
    this.cleaned = true
    this.closed = true
    this.queue = null
    for (const t of this.timers) clearTimeout(t)
    for (const sub of this.subs.values()) {
      sub.stop()
      this.ctx.metrics.subscriptions.dec({ app: this.appId, transport: 'sse' })
    }
    this.subs.clear()
    for (const channel of this.joined) void this.ctx.broker.removePresence(this.appId, channel, this.id).catch(() => {})
    this.onClosed(this)
  }
}
