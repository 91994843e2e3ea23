import { isValidChannel } from '@herald/protocol'
import type { App } from '../apps/types.js'
import { authorize } from '../auth/authorize.js'
import type { Identity } from '../auth/identity.js'
import { badRequest, HeraldError } from '../errors.js'
import type { Broker, PublishInput, PublishOutcome } from './broker.js'
import type { Hub } from './hub.js'
import type { AppRateLimiter } from './limits.js'
import { MAX_DATA_DEPTH, nestedDeeperThan } from './json-depth.js'

/** A publish request before validation, as it arrives from REST or a WebSocket frame. */
export interface RawMessage {
  channel?: unknown
  name?: unknown
  data?: unknown
  id?: unknown
}

// biome-ignore lint/suspicious/noControlCharactersInRegex: the rule itself: a name holds no control characters
const NAME = /^[^\u0000-\u001f\u007f]{1,200}$/
const ID = /^[\u0021-\u007e]{1,128}$/

/**
 * Validates, authorizes, rate-limits and publishes one or more messages as one unit:
 * every message is checked before the first is handed to the broker, so a rejected
 * request publishes nothing.
 */
export class Publisher {
  constructor(
    private readonly broker: Broker,
    private readonly hub: Hub,
    private readonly limiter: AppRateLimiter,
    /** Told why the broker refused a publish (the client only hears `internal`). */
    private readonly onBrokerError: (err: unknown, appId: string) => void = () => {},
  ) {}

  /**
   * Checks one message's fields and size; returns the broker input. `authorized`: the caller
   * checked the right to publish itself (Pusher client events), only the channel name is checked.
   */
  validate(app: App, identity: Identity, raw: RawMessage, authorized = false): PublishInput {
    if (!authorized) authorize(app, identity, raw.channel, 'publish')
    else if (!isValidChannel(raw.channel)) throw badRequest('channel must be 1..164 characters of [A-Za-z0-9_-=@.;:/]')
    if (!('data' in raw) || raw.data === undefined) throw badRequest('data is required')
    // Before JSON.stringify below, which overflows the stack on deep nesting that JSON.parse accepts.
    if (nestedDeeperThan(raw.data, MAX_DATA_DEPTH)) throw badRequest(`data is nested deeper than ${MAX_DATA_DEPTH} levels`)
    if (raw.name !== undefined && (typeof raw.name !== 'string' || !NAME.test(raw.name))) {
      throw badRequest('name must be a string of 1..200 characters without control characters')
    }
    if (raw.id !== undefined && (typeof raw.id !== 'string' || !ID.test(raw.id))) {
      throw badRequest('id must be 1..128 printable ASCII characters')
    }
    const dataJson = JSON.stringify(raw.data)
    // UTF-16 length ≤ bytes ≤ 3 × it: count the bytes only when it can matter.
    const size = dataJson.length * 3 <= app.settings.maxMessageBytes ? dataJson.length : Buffer.byteLength(dataJson)
    if (size > app.settings.maxMessageBytes) {
      throw new HeraldError('too_large', `data is ${size} bytes; this app allows ${app.settings.maxMessageBytes}`)
    }
    const input: PublishInput = { channel: raw.channel as string, data: raw.data, dataJson }
    if (raw.name !== undefined) input.name = raw.name as string
    if (raw.id !== undefined) input.id = raw.id as string
    if (identity.kind === 'token' && identity.clientId) input.clientId = identity.clientId
    return input
  }

  /** Publishes validated inputs, all or none. Throws `rate_limited` (with retryAfter) over the app's rate. */
  async publish(app: App, inputs: PublishInput[]): Promise<PublishOutcome[]> {
    if (inputs.length > app.settings.publishRatePerSecond) {
      // Waiting would never help: a 400 (not a 429) so clients split the batch instead of retrying.
      throw badRequest(`a batch of ${inputs.length} is more than this app's ${app.settings.publishRatePerSecond} messages per second: split it`)
    }
    const allowed = this.limiter.take(app.id, inputs.length, app.settings.publishRatePerSecond)
    if (!allowed.ok) {
      throw new HeraldError('rate_limited', `over ${app.settings.publishRatePerSecond} messages per second`, allowed.retryAfter)
    }
    let outcomes: PublishOutcome[]
    try {
      outcomes = await this.broker.publish(app.id, inputs, {
        historySize: app.settings.historySize,
        historyTtlSeconds: app.settings.historyTtlSeconds,
        publishRatePerSecond: app.settings.publishRatePerSecond,
      })
    } catch (err) {
      if (err instanceof HeraldError) throw err
      this.onBrokerError(err, app.id)
      throw new HeraldError('internal', 'the message broker is unavailable; nothing was published')
    }
    this.hub.countPublished(app.id, outcomes.filter((o) => !o.duplicate).length)
    return outcomes
  }
}
