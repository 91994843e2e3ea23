import type { ServerResponse } from 'node:http'
import { PusherCloseCodes } from '@herald/protocol'
import type { PusherConnection, PusherOutput } from './connection.js'
import { pusherXhrFormat, xhrArray } from './format.js'

/** A session with no receiving request for this long is gone (the client left without a word). */
const DISCONNECT_DELAY_MS = 10_000

/** `xhr_streaming` keeps one response open; `xhr` (pusher-js's xhr_polling) answers each request. */
export type XhrMode = 'xhr_streaming' | 'xhr'

/**
 * One pusher-js HTTP socket (`xhr_streaming` or `xhr_polling`): a SockJS-style session that
 * outlives its requests. Frames are lines: `o` (open), `a[…]` (events), `h` (heartbeat),
 * `c[code,"reason"]` (close). A streaming session keeps one response open and writes lines
 * as they come; a polling one answers each `xhr` request with what is queued, or holds it
 * until something is, or until a heartbeat.
 */
export class XhrSession implements PusherOutput<string> {
  readonly format = pusherXhrFormat
  conn!: PusherConnection<string>
  private queue: string[] = []
  private queuedBytes = 0
  private res: ServerResponse | undefined
  private closing: string | undefined
  private timer: NodeJS.Timeout | undefined
  private gone = false

  constructor(
    readonly kind: string,
    private readonly mode: XhrMode,
    private readonly heartbeatMs: number,
    private readonly forget: () => void,
  ) {
    this.armTimer()
  }

  frame(text: string): string {
    return xhrArray([text])
  }

  write(chunk: string): number {
    if (this.gone || this.closing) return 0
    if (this.res && this.mode === 'xhr_streaming') {
      this.res.write(chunk)
      return chunk.length
    }
    this.queue.push(chunk)
    this.queuedBytes += chunk.length
    if (this.res) setImmediate(() => this.flushPoll())
    return chunk.length
  }

  bufferedBytes(): number {
    return this.queuedBytes + (this.res?.writableLength ?? 0)
  }

  close(code: number, reason: string, discard: boolean): void {
    if (this.closing || this.gone) return
    if (discard) {
      this.queue = []
      this.queuedBytes = 0
    }
    this.closing = 'c' + JSON.stringify([code, reason]) + '\n'
    if (this.res) this.flushPoll()
  }

  /** A receiving request (`xhr_streaming` or `xhr`) of this session arrived; `first` writes `o`. */
  attach(res: ServerResponse, first: boolean): void {
    if (this.res) this.detach(true)
    this.res = res
    clearTimeout(this.timer)
    res.writeHead(200, {
      'Content-Type': 'application/javascript; charset=UTF-8',
      'Cache-Control': 'no-store, no-cache, no-transform, must-revalidate, max-age=0',
      ...cors(res.req?.headers.origin),
    })
    res.on('close', () => {
      if (this.res === res) this.detach(false)
    })
    if (first) res.write('o\n')
    if (this.mode === 'xhr_streaming') {
      const pending = this.queue.join('')
      this.queue = []
      this.queuedBytes = 0
      if (pending) res.write(pending)
      if (this.closing) this.flushPoll()
      else this.armTimer()
      return
    }
    if (first || this.queue.length > 0 || this.closing) this.flushPoll()
    else this.armTimer()
  }

  /** xhr_send: events from the client (an empty array is pusher-js's heartbeat). */
  receive(texts: string[]): void {
    this.conn.active = true
    for (const text of texts) this.conn.receive(text)
  }

  /** Ends the current polling response with what is queued (and the close frame when closing). */
  private flushPoll(): void {
    const res = this.res
    if (!res) return
    if (this.mode === 'xhr_streaming' && !this.closing) return
    const body = this.queue.join('') + (this.closing ?? '')
    this.queue = []
    this.queuedBytes = 0
    this.res = undefined
    res.end(body)
    if (this.closing) this.finish()
    else this.armTimer()
  }

  private detach(replaced: boolean): void {
    const res = this.res
    this.res = undefined
    if (replaced && res && !res.writableEnded) res.end()
    if (this.closing) this.finish()
    else this.armTimer()
  }

  /**
   * One timer: with a request attached, the heartbeat (`h`; a held poll is answered with it);
   * without one, the disconnect delay.
   */
  private armTimer(): void {
    clearTimeout(this.timer)
    if (this.gone) return
    if (!this.res) {
      this.timer = setTimeout(() => this.finish(), this.closing ? 0 : DISCONNECT_DELAY_MS)
      this.timer.unref()
      return
    }
    this.timer = setTimeout(() => {
      const res = this.res
      if (!res) return
      if (this.mode === 'xhr_streaming') {
        res.write('h\n')
        this.armTimer()
      } else {
        this.res = undefined
        res.end('h\n')
        this.armTimer()
      }
    }, this.heartbeatMs)
    this.timer.unref()
  }

  private finish(): void {
    if (this.gone) return
    this.gone = true
    clearTimeout(this.timer)
    if (this.res && !this.res.writableEnded) this.res.end(this.closing ?? '')
    this.res = undefined
    this.forget()
    this.conn?.session?.closed(PusherCloseCodes.reconnect, 'http session ended')
  }
}

/** CORS headers for a browser origin (pusher-js's XHRs are cross-origin when the app's page is elsewhere). */
export function cors(origin: string | undefined): Record<string, string> {
  const headers: Record<string, string> = {}
  if (origin) {
    headers['Access-Control-Allow-Origin'] = origin
    headers['Access-Control-Allow-Credentials'] = 'true'
    headers.Vary = 'Origin'
  }
  return headers
}
