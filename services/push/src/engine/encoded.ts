import { encodeSingleCursor, type Message, type PresenceEvent } from '@herald/protocol'
import { frameText } from '../transports/ws-wire.js'
import type { MessageFormat } from './format.js'

/** SSE event types of the protocol itself: a message `name` equal to one of these is sent as `message`. */
const RESERVED_SSE_EVENTS = new Set(['message', 'subscribed', 'presence', 'error'])
/** A name that can be an SSE event type as is (no line breaks; publishers already refuse control characters). */
const SSE_EVENT_NAME = /^[^\r\n]+$/

/**
 * A message serialized once, shared by every subscriber. Each wire format is built at most
 * once per message, on first use, and the same bytes go to every socket.
 */
export class EncodedMessage {
  private readonly cache: unknown[] = []
  private ws?: Buffer
  private sseTail?: string
  private sseType?: string
  private sseOne?: Buffer
  private sseOneNamed?: Buffer

  constructor(
    readonly message: Message,
    /** `JSON.stringify(message)`. */
    readonly json: string,
  ) {}

  static of(message: Message, json?: string): EncodedMessage {
    return new EncodedMessage(message, json ?? JSON.stringify(message))
  }

  /** This message in `format`, built once and shared by every subscriber of that format. */
  as<T>(format: MessageFormat<T>): T {
    let v = this.cache[format.slot] as T | undefined
    if (v === undefined) this.cache[format.slot] = v = format.message(this)
    return v
  }

  /** The complete WebSocket frame (header and `{"op":"message",…message}`), built once. */
  get wsFrame(): Buffer {
    return (this.ws ??= frameText(Buffer.from('{"op":"message",' + this.json.slice(1))))
  }

  /** The SSE `data:` line and the blank line that ends the event: the part every stream shares. */
  get sseData(): string {
    return (this.sseTail ??= 'data: ' + this.json + '\n\n')
  }

  /**
   * The SSE event type: `message`, or with `events=named` the message's `name` unless it is
   * one of the protocol's own types (`message`, `subscribed`, `presence`, `error`).
   */
  sseEvent(named: boolean): string {
    if (!named) return 'message'
    if (this.sseType === undefined) {
      const name = this.message.name
      this.sseType = name !== undefined && SSE_EVENT_NAME.test(name) && !RESERVED_SSE_EVENTS.has(name) ? name : 'message'
    }
    return this.sseType
  }

  /**
   * The whole SSE event for a stream of this message's channel alone: its `id:` (the cursor)
   * depends only on the message then, so it is built once and shared. Streams of several
   * channels write `event:` and `id:` themselves, followed by {@link sseData}.
   */
  sseSingle(named: boolean): Buffer {
    if (named) return (this.sseOneNamed ??= this.buildSseSingle(true))
    return (this.sseOne ??= this.buildSseSingle(false))
  }

  private buildSseSingle(named: boolean): Buffer {
    const { channel, epoch, seq } = this.message
    return Buffer.from(`event: ${this.sseEvent(named)}\nid: ${encodeSingleCursor(channel, { epoch, seq })}\n${this.sseData}`)
  }
}

/** A presence event serialized once. */
export class EncodedPresence {
  private readonly cache: unknown[] = []
  private ws?: Buffer
  private sse?: Buffer

  constructor(
    readonly event: PresenceEvent,
    readonly json: string,
  ) {}

  static of(event: PresenceEvent): EncodedPresence {
    return new EncodedPresence(event, JSON.stringify(event))
  }

  /** This event in `format`, built once and shared by every subscriber of that format. */
  as<T>(format: MessageFormat<T>): T {
    let v = this.cache[format.slot] as T | undefined
    if (v === undefined) this.cache[format.slot] = v = format.presence(this)
    return v
  }

  /** The complete WebSocket frame of the `presence` event, built once. */
  get wsFrame(): Buffer {
    return (this.ws ??= frameText(Buffer.from('{"op":"presence",' + this.json.slice(1))))
  }

  /** The SSE event: `event: presence` and `data: {"channel","action","member"}`. */
  get sseFrame(): Buffer {
    return (this.sse ??= Buffer.from('event: presence\ndata: ' + this.json + '\n\n'))
  }
}
