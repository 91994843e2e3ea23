import type { Message, Position } from '@herald/protocol'
import type { Broker } from './broker.js'

/** What a subscription reads to resume: the broker's position, history and recover. */
export type HistoryReader = Pick<Broker, 'position' | 'history' | 'recover'>
import { EncodedMessage, type EncodedPresence } from './encoded.js'
import type { Hub, Sink } from './hub.js'

/** Most skipped (excluded) message ids a subscription remembers until they pass. */
const MAX_SKIPPED = 256

/** What a transport does with one subscription's events. */
export interface SubscriptionOutput {
  subscribed(info: { channel: string; epoch: string; seq: number; recovered?: boolean }): void
  message(m: EncodedMessage): void
  presence(p: EncodedPresence): void
  /** A gap could not be repaired from history (the live messages go on). */
  repairFailed?(channel: string, err: unknown): void
}

export interface StartOptions {
  since?: Position
  rewind?: number
  /** Most messages replayed on resume or rewind (the app's historySize). */
  maxReplay: number
}

/**
 * One connection's subscription to one channel, shared by every transport.
 *
 * It joins the hub first and buffers live messages while it reads the resume point
 * (`since`, `rewind` or the head) from the broker, then sends `subscribed`, the missed
 * messages, and the buffered live ones past them. Every message at or below the last
 * delivered `seq` of the same epoch is dropped, so the client gets each message once, in order.
 */
export class ChannelSubscription implements Sink {
  epoch = ''
  seq = 0
  private buffer: Array<EncodedMessage | EncodedPresence> | null = []
  private stopped = false
  private repairing = false
  private maxReplay = 100
  /**
   * Ids of messages published with this session as `exclude` that have not passed yet: they
   * advance `seq` without being written, also when they come back from history in a repair.
   */
  private skipped: Set<string> | null = null

  constructor(
    readonly appId: string,
    readonly channel: string,
    private readonly out: SubscriptionOutput,
    private readonly hub: Hub,
    private readonly broker: HistoryReader,
    /** The session this subscription belongs to: a message published with `exclude` equal to it is not delivered here. */
    readonly sessionId?: string,
  ) {}

  /** Subscribes and replays; resolves when the client is live. Returns how many were replayed. */
  async start(options: StartOptions): Promise<number> {
    this.maxReplay = options.maxReplay
    await this.hub.subscribe(this.appId, this.channel, this)
    try {
      let replay: Message[] = []
      let position: Position
      let recovered: boolean | undefined
      if (options.since) {
        const r = await this.broker.recover(this.appId, this.channel, options.since, options.maxReplay)
        position = r.position
        recovered = r.recovered
        replay = r.messages
      } else if (options.rewind && options.rewind > 0) {
        const h = await this.broker.history(this.appId, this.channel, { limit: Math.min(options.rewind, options.maxReplay) })
        position = await this.broker.position(this.appId, this.channel)
        replay = h.epoch === position.epoch ? h.messages : []
      } else {
        position = await this.broker.position(this.appId, this.channel)
      }
      if (this.stopped) return 0
      this.out.subscribed({ channel: this.channel, epoch: position.epoch, seq: position.seq, ...(recovered === undefined ? {} : { recovered }) })
      this.epoch = position.epoch
      this.seq = replay.length > 0 ? replay[0]!.seq - 1 : position.seq
      let replayed = 0
      for (const m of replay) if (this.forward(EncodedMessage.of(m))) replayed++
      const buffered = this.buffer ?? []
      this.buffer = null
      for (const item of buffered) {
        if ('message' in item) this.forward(item)
        else this.out.presence(item)
      }
      return replayed
    } catch (err) {
      this.stop()
      throw err
    }
  }

  message(m: EncodedMessage): void {
    if (this.buffer) this.buffer.push(m)
    else this.forward(m)
  }

  skip(m: EncodedMessage): void {
    const skipped = (this.skipped ??= new Set())
    if (skipped.size >= MAX_SKIPPED) skipped.delete(skipped.values().next().value as string)
    skipped.add(m.message.id)
    this.message(m)
  }

  presence(p: EncodedPresence): void {
    if (this.buffer) this.buffer.push(p)
    else this.out.presence(p)
  }

  private forward(m: EncodedMessage): boolean {
    const { epoch, seq } = m.message
    if (epoch === this.epoch) {
      if (seq <= this.seq) {
        this.skipped?.delete(m.message.id)
        return false
      }
      if (seq > this.seq + 1 && !this.repairing) {
        // The broker skipped messages (at-most-once delivery between nodes, e.g. while its
        // subscriber connection reconnected): fetch them from history before going on.
        this.repair(m)
        return false
      }
    }
    this.epoch = epoch
    this.seq = seq
    if (this.skipped?.delete(m.message.id)) return false
    this.out.message(m)
    return true
  }

  private repair(next: EncodedMessage): void {
    this.repairing = true
    this.buffer = [next]
    this.broker
      .recover(this.appId, this.channel, { epoch: this.epoch, seq: this.seq }, this.maxReplay)
      .then(
        (r) => {
          if (this.stopped) return
          if (r.recovered) for (const m of r.messages) this.forward(EncodedMessage.of(m))
        },
        (err: unknown) => this.out.repairFailed?.(this.channel, err),
      )
      .finally(() => {
        if (this.stopped) return
        const buffered = this.buffer ?? []
        this.buffer = null
        for (const item of buffered) {
          if ('message' in item) this.forward(item)
          else this.out.presence(item)
        }
        this.repairing = false
      })
  }

  /** Leaves the hub; no event is sent after this. */
  stop(): void {
    if (this.stopped) return
    this.stopped = true
    this.buffer = null
    this.hub.unsubscribe(this.appId, this.channel, this)
  }
}
