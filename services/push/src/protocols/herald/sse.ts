import type { ServerResponse } from 'node:http'
import { CloseCodes, encodeCursor, errorCodeForClose, type CursorPositions, type ErrorCode } from '@herald/protocol'
import type { EncodedMessage, EncodedPresence } from '../../engine/encoded.js'
import type { ClientSession } from '../../engine/session.js'
import type { EndError, SubscribedInfo, Wire } from '../../engine/wire.js'
import { HeraldError } from '../../errors.js'
import { sseData, sseHead, sseSingle, sseSingleNamed, sseType, startPosition } from './sse-format.js'

export interface SseOptions {
  /** `events=named`: a message with a `name` uses it as the event type. */
  named: boolean
  /** The `retry:` value sent first (ms). */
  retryMs: number
  /** The stream is ended (cleanly: the client resumes) after this long; 0 = never. */
  maxStreamMs: number
  /** Headers to add to the stream's response (CORS). */
  headers: Record<string, string>
}

type Queued = { m: EncodedMessage; p?: undefined } | { p: EncodedPresence; m?: undefined }

/**
 * The Server-Sent Events wire: a fixed set of channels, written straight to the Node response.
 *
 * Opening subscribes every channel (resume and dedupe are the session's) while holding their
 * events back; then it writes the headers, `retry:`, one `subscribed` event per channel and
 * what was held, and goes live. Every `message` event carries `id: <cursor>` of all the
 * stream's channels at that point, so `Last-Event-ID` resumes the whole stream (and a poll).
 */
export class SseWire implements Wire {
  readonly kind = 'sse'
  private session!: ClientSession
  private readonly positions: CursorPositions = {}
  private readonly started = new Map<string, SubscribedInfo>()
  private queue: Queued[] | null = []
  private live = false
  private done = false
  private timer: NodeJS.Timeout | undefined

  constructor(
    private readonly res: ServerResponse,
    readonly channels: readonly string[],
    private readonly options: SseOptions,
  ) {}

  /**
   * Subscribes, writes the stream's head and goes live. Throws (before anything is written)
   * when a subscription cannot start; the caller answers with an HTTP error then.
   */
  async open(session: ClientSession, since: CursorPositions | undefined, rewind: number): Promise<void> {
    this.session = session
    this.res.on('close', () => this.gone())
    try {
      await Promise.all(
        this.channels.map((channel) => {
          const from = since?.[channel]
          return session.subscribe(channel, {
            ...(from ? { since: from } : rewind > 0 ? { rewind } : {}),
            subscribed: (info) => this.started.set(channel, info),
          })
        }),
      )
    } catch (err) {
      // Already answered (the hub closed it while subscribing) or the client left: nothing to say.
      const answered = this.done
      this.gone()
      if (answered) return
      throw err
    }
    if (this.done) return
    this.writeHead(since)
    if (this.options.maxStreamMs > 0) {
      // Up to 10% earlier, so streams opened together do not all reconnect together.
      this.timer = setTimeout(() => session.close(CloseCodes.normal, 'stream lifetime reached'), this.options.maxStreamMs * (0.9 + Math.random() * 0.1))
      this.timer.unref()
    }
  }

  private writeHead(since: CursorPositions | undefined): void {
    const queue = this.queue ?? []
    for (const channel of this.channels) {
      const first = queue.find((q) => q.m?.message.channel === channel)?.m?.message
      this.positions[channel] = startPosition(this.started.get(channel)!, since?.[channel], first)
    }
    this.res.writeHead(200, {
      'Content-Type': 'text/event-stream',
      'Cache-Control': 'no-cache',
      'X-Accel-Buffering': 'no',
      Connection: 'keep-alive',
      ...this.options.headers,
    })
    const head = sseHead(
      this.options.retryMs,
      this.channels.map((c) => this.started.get(c)!),
      encodeCursor(this.positions),
    )
    this.live = true
    this.session.account(this.write(head))
    this.queue = null
    for (const q of queue) this.session.account(q.m ? this.message('', q.m) : this.presence('', q.p!))
  }

  // ---- Wire --------------------------------------------------------------------------

  bufferedBytes(): number {
    return this.res.writableLength
  }

  message(_channel: string, m: EncodedMessage): number {
    if (this.queue) {
      this.queue.push({ m })
      return 0
    }
    const message = m.message
    const position = this.positions[message.channel]!
    position.epoch = message.epoch
    position.seq = message.seq
    const { named } = this.options
    if (this.channels.length === 1) return this.write(m.as(named ? sseSingleNamed : sseSingle))
    return this.write(`event: ${sseType(m, named)}\nid: ${encodeCursor(this.positions)}\n${m.as(sseData)}`)
  }

  presence(_channel: string, p: EncodedPresence): number {
    if (this.queue) {
      this.queue.push({ p })
      return 0
    }
    return this.write(p.as(sseSingle))
  }

  /** `normal` / `goingAway` end the stream plainly (the client resumes); the contract's 4xxx codes with `event: error`. */
  end(code: number, reason: string, error?: EndError): void {
    if (code === CloseCodes.goingAway) {
      // Shutting down: let the socket go with the stream rather than wait as an idle keep-alive.
      this.res.once('finish', () => this.res.socket?.end())
      this.finish()
    } else if (code === CloseCodes.normal) {
      this.finish()
    } else {
      this.fail(error?.code ?? errorCodeForClose(code), error?.message ?? reason)
    }
    this.gone()
  }

  /** The shared heartbeat: a comment line, which EventSource ignores and proxies see as traffic. */
  ping(): void {
    this.session.account(this.write(': ping\n\n'))
  }

  // ---- output ------------------------------------------------------------------------

  private write(chunk: string | Buffer): number {
    if (this.done || !this.live) return 0
    this.res.write(chunk)
    return typeof chunk === 'string' ? Buffer.byteLength(chunk) : chunk.length
  }

  /** Ends the stream with `event: error`, or before it went live with a plain HTTP error. */
  private fail(code: ErrorCode, message: string): void {
    if (this.done) return
    if (!this.live) {
      this.refuse(new HeraldError(code, message))
      return
    }
    this.res.write(`event: error\ndata: ${JSON.stringify({ code, message })}\n\n`)
    this.finish()
  }

  private refuse(err: HeraldError): void {
    this.done = true
    if (!this.res.headersSent) {
      this.res.writeHead(err.status, { 'Content-Type': 'application/json', ...this.options.headers })
      this.res.end(JSON.stringify(err.toBody()))
    } else {
      this.res.end()
    }
  }

  /** Ends the stream without an error: the client reconnects and resumes from its last id. */
  private finish(): void {
    if (this.done) return
    if (!this.live) {
      this.refuse(new HeraldError('internal', 'server going away'))
      return
    }
    this.done = true
    this.res.end()
    // A peer that does not read never lets the end through: do not keep its buffers.
    setTimeout(() => this.res.destroy(), 2000).unref()
  }

  /** The stream is over, whoever ended it. */
  private gone(): void {
    this.done = true
    this.queue = null
    clearTimeout(this.timer)
    this.session.closed()
  }
}
