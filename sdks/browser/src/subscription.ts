import type { HistoryReply, Message, PresenceEvent, PresenceMember, Position, ServerFrame, SseSubscribed } from '@herald/protocol'
import { Emitter } from './emitter.js'
import type { ChannelStart, RequestFrame } from './transports/transport.js'

/** Context of a subscription's `subscribed` event. */
export interface SubscribedContext {
  channel: string
  epoch: string
  /** The channel's position when the server confirmed the subscription. */
  seq: number
  /** Whether this is a resume (a reconnect) rather than the first subscribe. */
  resumed: boolean
  /**
   * `false` when the subscription resumed but messages may have been missed (the
   * channel's history was lost, or the gap was longer than the history window): reload
   * the state of this channel. Always `true` on a first subscribe.
   */
  recovered: boolean
}

/** Context of a subscription's `unrecovered` event. */
export interface UnrecoveredContext {
  channel: string
  epoch: string
  seq: number
  /** The last position this subscription had seen. */
  previous: Position
}

/** Events of a {@link Subscription}. */
export interface SubscriptionEvents {
  subscribed: SubscribedContext
  message: Message
  presence: PresenceEvent
  error: { channel: string; code: string; message: string }
  /** Messages may have been missed: same moment as `subscribed` with `recovered: false`. */
  unrecovered: UnrecoveredContext
  unsubscribed: { channel: string }
}

/** Options of `client.subscribe()`. */
export interface SubscribeOptions {
  /** On the first subscribe, also deliver the last `rewind` messages of the history. */
  rewind?: number
}

/** Options of `publish()`. */
export interface PublishOptions {
  name?: string
  /** Publisher id: a repeat within 2 minutes is not delivered twice. */
  id?: string
}

/** What a publish returns. */
export interface PublishResult {
  channel: string
  id: string
  seq: number
  epoch: string
}

/** What a subscription needs from its client. */
export interface SubscriptionHost {
  request(frame: RequestFrame): Promise<ServerFrame> | null
  get<T>(path: string): Promise<T>
  publish(channel: string, data: unknown, options?: PublishOptions): Promise<PublishResult>
  remove(sub: Subscription): void
}

/**
 * One channel of a client. Usable before the connection is up: it subscribes as soon as
 * a transport opens, and after every reconnect resumes from its last `{epoch, seq}`,
 * dropping duplicates (a `seq` not above the last one seen in the same epoch).
 *
 * @example
 * const sub = client.subscribe('chat', (m) => show(m.data))
 * sub.on('subscribed', ({ recovered }) => { if (!recovered) reload() })
 * const { messages } = await sub.history({ limit: 20 })
 */
export class Subscription extends Emitter<SubscriptionEvents> {
  /** `pending` until the server confirms (again after each reconnect). */
  state: 'pending' | 'subscribed' | 'unsubscribed' = 'pending'
  /** The last position seen; where a reconnect resumes. */
  position: Position | null = null

  constructor(
    readonly channel: string,
    private readonly host: SubscriptionHost,
    private readonly options: SubscribeOptions = {},
  ) {
    super()
  }

  /** Fetches history, oldest first (needs the `history` capability). */
  async history(options: { limit?: number; after?: number } = {}): Promise<HistoryReply> {
    const p = this.host.request({ op: 'history', channel: this.channel, ...options })
    if (p) {
      const f = (await p) as Extract<ServerFrame, { op: 'history' }>
      return { epoch: f.epoch, messages: f.messages }
    }
    const q = [options.limit !== undefined && `limit=${options.limit}`, options.after !== undefined && `after=${options.after}`].filter(Boolean).join('&')
    return this.host.get<HistoryReply>(`channels/${encodeURIComponent(this.channel)}/messages${q ? '?' + q : ''}`)
  }

  /** The members of a presence channel. */
  async members(): Promise<PresenceMember[]> {
    const p = this.host.request({ op: 'members', channel: this.channel })
    if (p) return ((await p) as Extract<ServerFrame, { op: 'members' }>).members
    return (await this.host.get<{ members: PresenceMember[] }>(`channels/${encodeURIComponent(this.channel)}/presence`)).members
  }

  /** Publishes on this channel (see `client.publish`). */
  publish(data: unknown, options?: PublishOptions): Promise<PublishResult> {
    return this.host.publish(this.channel, data, options)
  }

  /** Leaves the channel. */
  unsubscribe(): void {
    if (this.state === 'unsubscribed') return
    this.state = 'unsubscribed'
    this.host.remove(this)
    this.emit('unsubscribed', { channel: this.channel })
  }

  /** @internal Where to start on the next transport. */
  _start(): ChannelStart {
    return this.position ? { channel: this.channel, since: this.position } : { channel: this.channel, rewind: this.options.rewind ?? 0 }
  }

  /** @internal The transport dropped: wait for the next `subscribed`. */
  _pending(): void {
    if (this.state === 'subscribed') this.state = 'pending'
  }

  /** @internal */
  _subscribed({ epoch, seq, recovered: said }: SseSubscribed): void {
    const prev = this.position
    let recovered = true
    if (!prev) this.position = { epoch, seq: Math.max(0, seq - (this.options.rewind ?? 0)) }
    else if (prev.epoch !== epoch || said === false || seq < prev.seq) {
      recovered = false
      this.position = { epoch, seq }
    }
    if (this.state === 'pending' || !recovered) {
      this.state = 'subscribed'
      this.emit('subscribed', { channel: this.channel, epoch, seq, resumed: prev !== null, recovered })
    }
    if (!recovered) this.emit('unrecovered', { channel: this.channel, epoch, seq, previous: prev! })
  }

  /** @internal Delivers a message unless it is a duplicate. */
  _message(m: Message): void {
    const p = this.position
    if (p && m.epoch === p.epoch && m.seq <= p.seq) return
    this.position = { epoch: m.epoch, seq: m.seq }
    if (p && m.epoch !== p.epoch) this.emit('unrecovered', { channel: this.channel, epoch: m.epoch, seq: m.seq - 1, previous: p })
    this.emit('message', m)
  }

  /** @internal */
  _presence(e: PresenceEvent): void {
    this.emit('presence', e)
  }

  /** @internal */
  _error(e: { code: string; message: string }): void {
    this.emit('error', { channel: this.channel, code: e.code, message: e.message })
  }
}
