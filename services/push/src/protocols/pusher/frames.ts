/**
 * Pusher Channels protocol 7 frames: what a pusher-js (or pusher-java, pusher-swift…) client
 * sends, parsed into one tagged union, and the server's events encoded as Pusher encodes them
 * (`{"event","channel"?,"data"?}`, `data` of server events being JSON text).
 */

/** A frame from a Pusher client, once parsed and checked. */
export type PusherClientFrame =
  | { kind: 'ping' }
  | { kind: 'pong' }
  | { kind: 'subscribe'; channel: string; auth?: string; channelData?: string }
  | { kind: 'unsubscribe'; channel: string }
  | { kind: 'signin'; auth: string; userData: string }
  | { kind: 'client'; event: string; channel: string; data: unknown }

/** A frame that could not be understood: answered with `pusher:error` (the socket stays open). */
export class PusherFrameError extends Error {
  constructor(
    message: string,
    /** The channel the frame named, when it could be read. */
    readonly channel?: string,
  ) {
    super(message)
    this.name = 'PusherFrameError'
  }
}

/** Longest event name pusher-js or the server libraries send (Pusher's documented limit). */
const MAX_EVENT_NAME = 200
/** Longest channel name Pusher allows. */
const MAX_CHANNEL_NAME = 200
/** Longest `auth` or `channel_data` string accepted before checking a signature. */
const MAX_AUTH = 16_384

const isObject = (v: unknown): v is Record<string, unknown> => typeof v === 'object' && v !== null && !Array.isArray(v)

function str(value: unknown, what: string, max: number, channel?: string): string {
  if (typeof value !== 'string' || value.length === 0) throw new PusherFrameError(`${what} must be a non-empty string`, channel)
  if (value.length > max) throw new PusherFrameError(`${what} is longer than ${max} characters`, channel)
  return value
}

function optionalStr(value: unknown, what: string, max: number, channel?: string): string | undefined {
  return value === undefined || value === null || value === '' ? undefined : str(value, what, max, channel)
}

/** `data` of a `pusher:*` frame: an object, or (some clients) that object as JSON text. */
function eventData(value: unknown): Record<string, unknown> {
  if (isObject(value)) return value
  if (typeof value === 'string') {
    try {
      const parsed: unknown = JSON.parse(value)
      if (isObject(parsed)) return parsed
    } catch {}
  }
  if (value === undefined || value === null) return {}
  throw new PusherFrameError('data must be an object')
}

/**
 * Parses one text frame from a Pusher client. Throws {@link PusherFrameError} for anything
 * malformed: bad JSON, no `event`, an unknown `pusher:` event, missing fields.
 */
export function parsePusherFrame(text: string): PusherClientFrame {
  let raw: unknown
  try {
    raw = JSON.parse(text)
  } catch {
    throw new PusherFrameError('frame is not valid JSON')
  }
  if (!isObject(raw)) throw new PusherFrameError('frame must be a JSON object')
  const event = str(raw.event, 'event', MAX_EVENT_NAME)
  const frameChannel = typeof raw.channel === 'string' ? raw.channel.slice(0, MAX_CHANNEL_NAME) : undefined
  switch (event) {
    case 'pusher:ping':
      return { kind: 'ping' }
    case 'pusher:pong':
      return { kind: 'pong' }
    case 'pusher:subscribe': {
      const data = eventData(raw.data)
      const channel = str(data.channel, 'channel', MAX_CHANNEL_NAME)
      const frame: PusherClientFrame = { kind: 'subscribe', channel }
      const auth = optionalStr(data.auth, 'auth', MAX_AUTH, channel)
      if (auth !== undefined) frame.auth = auth
      const channelData = optionalStr(data.channel_data, 'channel_data', MAX_AUTH, channel)
      if (channelData !== undefined) frame.channelData = channelData
      return frame
    }
    case 'pusher:unsubscribe':
      return { kind: 'unsubscribe', channel: str(eventData(raw.data).channel, 'channel', MAX_CHANNEL_NAME) }
    case 'pusher:signin': {
      const data = eventData(raw.data)
      return { kind: 'signin', auth: str(data.auth, 'auth', MAX_AUTH), userData: str(data.user_data, 'user_data', MAX_AUTH) }
    }
  }
  if (event.startsWith('client-')) {
    const channel = str(raw.channel, 'channel', MAX_CHANNEL_NAME)
    if (!('data' in raw)) throw new PusherFrameError('a client event needs data', channel)
    return { kind: 'client', event, channel, data: raw.data }
  }
  if (event.startsWith('pusher:') || event.startsWith('pusher_internal:')) throw new PusherFrameError(`unsupported event ${event}`, frameChannel)
  throw new PusherFrameError('client events must be named client-*', frameChannel)
}

/**
 * A server event as text. `data` is sent as Pusher sends it: a string as it is, anything else
 * as its JSON text (pusher-js parses it back).
 */
export function pusherEvent(event: string, channel?: string, data?: unknown): string {
  let out = '{"event":' + JSON.stringify(event)
  if (channel !== undefined) out += ',"channel":' + JSON.stringify(channel)
  if (data !== undefined) out += ',"data":' + JSON.stringify(typeof data === 'string' ? data : JSON.stringify(data))
  return out + '}'
}

/** `pusher:error`: `{"code","message"}` (code null for errors that have none). */
export function pusherError(code: number | null, message: string, channel?: string): string {
  // pusher-js reads data.code / data.message of pusher:error as an object, not as JSON text.
  let out = '{"event":"pusher:error"'
  if (channel !== undefined) out += ',"channel":' + JSON.stringify(channel)
  return out + ',"data":' + JSON.stringify({ code, message }) + '}'
}

/** `pusher:subscription_error` for one channel: `{"type","error","status"}` (401 or 403). */
export function subscriptionError(channel: string, status: number, error: string): string {
  return '{"event":"pusher:subscription_error","channel":' + JSON.stringify(channel) + ',"data":' + JSON.stringify({ type: 'AuthError', error, status }) + '}'
}
