import type { Message } from '@herald/protocol'

/**
 * One channel, two faces: how a message looks on each.
 *
 * - Pusher event name = Herald `name`. A Herald message without a name reaches Pusher clients
 *   as {@link DEFAULT_EVENT_NAME} (what SSE calls an unnamed message too).
 * - Pusher `data` is a string. When it is JSON text it becomes Herald `data` as that JSON value
 *   (`'{"a":1}'` → `{a: 1}`); any other string stays a string (`'hi'` → `'hi'`).
 * - Herald `data` reaches Pusher clients as JSON text, except a string that is not itself JSON
 *   text, which goes as it is. This is the exact inverse of the first mapping, so a Pusher event
 *   comes back unchanged (`'hi'` → `'hi'`, `'"5"'` → `'"5"'`), and pusher-js (which tries
 *   `JSON.parse` on every `data`) sees the same value a Herald client sees.
 */

export const DEFAULT_EVENT_NAME = 'message'

/** Pusher `data` (a string) as Herald `data`. */
export function heraldData(pusherData: string): unknown {
  const parsed = parseJson(pusherData)
  return parsed === NOT_JSON ? pusherData : parsed
}

/** Herald `data` as Pusher `data` (a string): the inverse of {@link heraldData}. */
export function pusherData(data: unknown): string {
  if (typeof data === 'string' && parseJson(data) === NOT_JSON) return data
  return JSON.stringify(data)
}

/** The Pusher event name of a Herald message. */
export function pusherEventName(message: Pick<Message, 'name'>): string {
  return message.name ?? DEFAULT_EVENT_NAME
}

/** A channel event as a Pusher client receives it (`user_id` on client events of presence channels). */
export interface PusherChannelEvent {
  event: string
  channel: string
  data: string
  user_id?: string
}

/** A Herald message as the Pusher event a Pusher client receives. */
export function toPusherEvent(message: Message): PusherChannelEvent {
  const event: PusherChannelEvent = { event: pusherEventName(message), channel: message.channel, data: pusherData(message.data) }
  if (message.clientId !== undefined && message.channel.startsWith('presence-') && event.event.startsWith('client-')) {
    event.user_id = message.clientId
  }
  return event
}

const NOT_JSON = Symbol('not JSON')

function parseJson(text: string): unknown {
  // Fast path: JSON text starts with one of these (after optional whitespace).
  const first = text.trimStart()[0]
  if (first === undefined || !'{["-0123456789tfn'.includes(first)) return NOT_JSON
  try {
    return JSON.parse(text)
  } catch {
    return NOT_JSON
  }
}
