import { encodeSingleCursor, type Message, type Position } from '@herald/protocol'
import type { EncodedMessage, EncodedPresence } from '../../engine/encoded.js'
import { defineFormat } from '../../engine/format.js'
import type { SubscribedInfo } from '../../engine/wire.js'

/** SSE event types of the protocol itself: a message `name` equal to one of these is sent as `message`. */
const RESERVED_SSE_EVENTS = new Set(['message', 'subscribed', 'presence', 'error'])
/** A name that can be an SSE event type as is (no line breaks; publishers already refuse control characters). */
const SSE_EVENT_NAME = /^[^\r\n]+$/

const presenceEvent = (p: EncodedPresence) => Buffer.from('event: presence\ndata: ' + p.json + '\n\n')

/**
 * With `events=named`, the SSE event type of a message: its `name` unless it is one of the
 * protocol's own types (`message`, `subscribed`, `presence`, `error`).
 */
export const sseNamedType = defineFormat<string>('sse-named-type', {
  message: ({ message: { name } }) => (name !== undefined && SSE_EVENT_NAME.test(name) && !RESERVED_SSE_EVENTS.has(name) ? name : 'message'),
  presence: () => 'presence',
})

/** The SSE `data:` line and the blank line that ends the event: the part every stream shares. */
export const sseData = defineFormat<string>('sse-data', {
  message: (m) => 'data: ' + m.json + '\n\n',
  presence: (p) => 'data: ' + p.json + '\n\n',
})

const single = (m: EncodedMessage, type: string) => {
  const { channel, epoch, seq } = m.message
  return Buffer.from(`event: ${type}\nid: ${encodeSingleCursor(channel, { epoch, seq })}\n${m.as(sseData)}`)
}

/**
 * The whole SSE event for a stream of this message's channel alone: its `id:` (the cursor)
 * depends only on the message then, so it is built once and shared. Presence: `event: presence`.
 */
export const sseSingle = defineFormat<Buffer>('sse-single', { message: (m) => single(m, 'message'), presence: presenceEvent })

/** {@link sseSingle} with `events=named`. */
export const sseSingleNamed = defineFormat<Buffer>('sse-single-named', { message: (m) => single(m, m.as(sseNamedType)), presence: presenceEvent })

/** The event type of a message on a stream (`message` unless `events=named`). */
export function sseType(m: EncodedMessage, named: boolean): string {
  return named ? m.as(sseNamedType) : 'message'
}

/**
 * Where a stream's channel starts in its cursor: its resume point when it was recovered, else
 * where the subscription started; for a rewind, one before the first replayed message.
 */
export function startPosition(info: SubscribedInfo, since: Position | undefined, first: Message | undefined): Position {
  const position: Position = info.recovered === true && since ? { epoch: since.epoch, seq: since.seq } : { epoch: info.epoch, seq: info.seq }
  if (first && first.epoch === position.epoch && first.seq - 1 < position.seq) position.seq = first.seq - 1
  return position
}

/** The head of a stream: `retry:` (spread up to twice the base) and one `subscribed` event per channel, with the start cursor. */
export function sseHead(retryMs: number, started: SubscribedInfo[], cursor: string): string {
  let head = `retry: ${retryMs + Math.floor(Math.random() * retryMs)}\n\n`
  for (const info of started) head += `event: subscribed\nid: ${cursor}\ndata: ${JSON.stringify(info)}\n\n`
  return head
}
