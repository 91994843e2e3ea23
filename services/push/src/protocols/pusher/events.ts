import type { App } from '../../apps/types.js'
import type { PublishInput } from '../../engine/broker.js'
import type { RawMessage } from '../../engine/publisher.js'
import { badRequest, HeraldError } from '../../errors.js'
import { heraldChannelOf, isValidPusherChannel } from './channels.js'
import { heraldData } from './data.js'

/**
 * A Pusher HTTP API event (`POST /events`, one item of `POST /batch_events`) checked and turned
 * into the engine's publish inputs, one per channel. Pusher's own rules (data is a string, at
 * most 100 channels, Pusher channel names, reserved event names, `socket_id`, `info`) are checked
 * here; then each message goes through the engine's validation, the same as a Herald REST
 * publish (capability of the key, name, nesting, the app's `maxMessageBytes`). Every rule is
 * checked before anything is published, so a request that breaks one is refused whole.
 */

/** Most channels one event may go to (Pusher's limit). */
export const MAX_EVENT_CHANNELS = 100
/** Most events in one `batch_events` call (Pusher's limit). */
export const MAX_BATCH_EVENTS = 10

/** Attributes `info` may ask for in a trigger reply. */
export const TRIGGER_INFO = ['subscription_count', 'user_count'] as const
export type TriggerInfo = (typeof TRIGGER_INFO)[number]

const SOCKET_ID = /^\d{1,20}\.\d{1,20}$/

export interface CheckedEvent {
  /** The Pusher channel names, as given. */
  channels: string[]
  inputs: PublishInput[]
  /** What the reply must report per channel (empty: reply `{}`). */
  info: TriggerInfo[]
}

/**
 * Checks one event. `validate` is the engine's check of one message (Herald REST uses the same).
 * `where` prefixes messages inside a batch (`batch[2]: …`). Throws `bad_request` (400),
 * `forbidden` (403, the key may not publish there) or `too_large` (413, over `maxMessageBytes`).
 */
export function checkEvent(app: App, validate: (raw: RawMessage) => PublishInput, body: unknown, opts: { batch: boolean; where?: string }): CheckedEvent {
  const at = (msg: string) => (opts.where ? `${opts.where}: ${msg}` : msg)
  if (typeof body !== 'object' || body === null || Array.isArray(body)) throw badRequest(at('the event must be a JSON object'))
  const e = body as Record<string, unknown>

  if (typeof e.name !== 'string') throw badRequest(at('name is required'))
  if (e.name.startsWith('pusher:') || e.name.startsWith('pusher_internal:')) throw badRequest(at('event names starting with pusher: or pusher_internal: are reserved'))
  if (typeof e.data !== 'string') throw badRequest(at('data must be a string (JSON-encode objects)'))

  const channels = channelsOf(e, opts.batch, at)
  for (const channel of channels) {
    if (!isValidPusherChannel(channel)) throw badRequest(at(`invalid channel name ${JSON.stringify(String(channel).slice(0, 200))}`))
  }

  let exclude: string | undefined
  if (e.socket_id !== undefined) {
    if (typeof e.socket_id !== 'string' || !SOCKET_ID.test(e.socket_id)) throw badRequest(at('socket_id must look like 123.456'))
    exclude = e.socket_id
  }
  const info = infoOf(e.info, at)

  const data = heraldData(e.data)
  const name = e.name

  const inputs = channels.map((channel): PublishInput => {
    let input: PublishInput
    try {
      input = validate({ channel: heraldChannelOf(channel), name, data })
    } catch (err) {
      if (opts.where && err instanceof Error) err.message = at(err.message)
      throw err
    }
    return exclude === undefined ? input : { ...input, exclude }
  })
  // The app's limit holds for the Pusher text as well as for the Herald value (checked by validate).
  const size = Buffer.byteLength(e.data)
  if (size > app.settings.maxMessageBytes) throw new HeraldError('too_large', at(`data is ${size} bytes; this app allows ${app.settings.maxMessageBytes}`))
  return { channels, inputs, info }
}

/** `channel` or `channels` (1..100, no repeats); a batch item has `channel` only. */
function channelsOf(e: Record<string, unknown>, batch: boolean, at: (m: string) => string): string[] {
  if (batch) {
    if (typeof e.channel !== 'string') throw badRequest(at('channel is required'))
    return [e.channel]
  }
  if (e.channel !== undefined && e.channels !== undefined) throw badRequest(at('give channel or channels, not both'))
  if (e.channel !== undefined) {
    if (typeof e.channel !== 'string') throw badRequest(at('channel must be a string'))
    return [e.channel]
  }
  if (!Array.isArray(e.channels) || e.channels.length === 0) throw badRequest(at('channels must be a non-empty array of channel names'))
  if (e.channels.length > MAX_EVENT_CHANNELS) throw badRequest(at(`an event may go to at most ${MAX_EVENT_CHANNELS} channels, not ${e.channels.length}`))
  if (e.channels.some((c) => typeof c !== 'string')) throw badRequest(at('channels must be strings'))
  if (new Set(e.channels).size !== e.channels.length) throw badRequest(at('channels must not repeat'))
  return e.channels as string[]
}

/** `info=subscription_count,user_count` (comma-separated). */
function infoOf(value: unknown, at: (m: string) => string): TriggerInfo[] {
  if (value === undefined || value === '') return []
  if (typeof value !== 'string') throw badRequest(at('info must be a comma-separated string'))
  const parts = value.split(',').map((p) => p.trim())
  for (const p of parts) {
    if (!(TRIGGER_INFO as readonly string[]).includes(p)) throw badRequest(at(`info may ask for ${TRIGGER_INFO.join(', ')}; not ${JSON.stringify(p)}`))
  }
  return [...new Set(parts)] as TriggerInfo[]
}
