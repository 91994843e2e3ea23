import type { Message, PresenceEvent } from '@herald/protocol'

/**
 * A message serialized once, shared by every subscriber. Each wire format is built at most
 * once per message, on first use, and the same bytes go to every socket.
 */
export class EncodedMessage {
  private ws?: Buffer

  constructor(
    readonly message: Message,
    /** `JSON.stringify(message)`. */
    readonly json: string,
  ) {}

  static of(message: Message, json?: string): EncodedMessage {
    return new EncodedMessage(message, json ?? JSON.stringify(message))
  }

  /** The WebSocket `message` frame: `{"op":"message",…message}`. */
  get wsFrame(): Buffer {
    return (this.ws ??= Buffer.from('{"op":"message",' + this.json.slice(1)))
  }
}

/** A presence event serialized once. */
export class EncodedPresence {
  private ws?: Buffer

  constructor(
    readonly event: PresenceEvent,
    readonly json: string,
  ) {}

  static of(event: PresenceEvent): EncodedPresence {
    return new EncodedPresence(event, JSON.stringify(event))
  }

  get wsFrame(): Buffer {
    return (this.ws ??= Buffer.from('{"op":"presence",' + this.json.slice(1)))
  }
}
