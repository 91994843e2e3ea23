import type { EncodedMessage, EncodedPresence } from './encoded.js'

/**
 * How one wire encodes what it writes: a message and a presence event, each into the bytes
 * (or string) that wire sends. A wire defines its formats once, at module load, with
 * {@link defineFormat}; the engine knows no format. Every {@link EncodedMessage} builds a
 * format's encoding at most once, on first use, and hands the same value to every subscriber
 * of that format (one `Buffer` shared by thousands of sockets, never copied per socket).
 *
 * @example
 * // protocols/herald/ws-format.ts
 * export const heraldWsFormat = defineFormat<Buffer>('herald-ws', {
 *   message: (m) => frameText(Buffer.from('{"op":"message",' + m.json.slice(1))),
 *   presence: (p) => frameText(Buffer.from('{"op":"presence",' + p.json.slice(1))),
 * })
 * // in the wire
 * socket.write(encoded.as(heraldWsFormat))
 */
export interface MessageFormat<T> {
  /** For logs and tests only. */
  readonly name: string
  /** The slot this format's encodings are cached in (assigned by {@link defineFormat}). */
  readonly slot: number
  readonly message: (m: EncodedMessage) => T
  readonly presence: (p: EncodedPresence) => T
}

let slots = 0

/** Registers a wire format. Call it once per format, at module load (each call takes a cache slot). */
export function defineFormat<T>(name: string, encode: { message: (m: EncodedMessage) => T; presence: (p: EncodedPresence) => T }): MessageFormat<T> {
  return { name, slot: slots++, message: encode.message, presence: encode.presence }
}
