import type { Message, PresenceEvent } from '@herald/protocol'
import type { MessageFormat } from './format.js'

/**
 * A message serialized once (`json`), shared by every subscriber. Each wire format's encoding
 * (see {@link MessageFormat}) is built at most once per message, on first use, and the same
 * value goes to every subscriber of that format. The engine knows no format.
 */
export class EncodedMessage {
  private readonly cache: unknown[] = []

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
}

/** A presence event serialized once, with each wire format's encoding built at most once. */
export class EncodedPresence {
  private readonly cache: unknown[] = []

  constructor(
    readonly event: PresenceEvent,
    /** `JSON.stringify(event)`. */
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
}
