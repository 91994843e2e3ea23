import type { Message, Position } from '@herald/protocol'
import type { Broker, BrokerHandler, ChannelOptions, NodeState, PublishInput, PublishOutcome, RecoverResult } from './broker.js'
import { newEpoch, newMessageId } from './broker-ids.js'
import { ChannelCache, type ChannelWindow, newChannelWindow, rememberId, seenId, trimHistory } from './channel-cache.js'

export interface MemoryBrokerOptions {
  /** How often idle channels are swept (ms). Default 60 s. */
  sweepIntervalMs?: number
  /** Whether something outside the broker still uses the channel (presence members): it is not swept then. */
  inUse?: (appId: string, channel: string) => boolean
  /** The clock (tests). Default `Date.now`. */
  now?: () => number
}

/**
 * The single-process broker: all state lives in this process and is lost with it.
 * `publish` delivers every new message to the handler synchronously, in order, once the
 * state is updated (for every channel: the hub ignores channels without local subscribers).
 *
 * @example
 * const broker = new MemoryBroker()
 * await broker.start(hub)
 * await broker.publish('app_1', [{ channel: 'chat', data: 'hi' }], { historySize: 100, historyTtlSeconds: 3600 })
 */
export class MemoryBroker implements Broker {
  readonly driver = 'memory' as const
  private handler: BrokerHandler | null = null
  private readonly cache: ChannelCache<ChannelWindow>
  private readonly now: () => number
  private sweeper: NodeJS.Timeout | null = null

  constructor(private readonly options: MemoryBrokerOptions = {}) {
    this.now = options.now ?? Date.now
    // Missing, or idle past its history TTL: a new epoch.
    const open = (_appId: string, _channel: string, now: number) => newChannelWindow(newEpoch(), 0, now)
    this.cache = new ChannelCache({ now: this.now, open, inUse: options.inUse })
  }

  /** `localState` is not used: cluster state has its own driver. */
  async start(handler: BrokerHandler, _localState?: () => NodeState): Promise<void> {
    this.handler = handler
    this.sweeper = setInterval(() => this.sweep(), this.options.sweepIntervalMs ?? 60_000)
    this.sweeper.unref()
  }

  async publish(appId: string, inputs: PublishInput[], options: ChannelOptions): Promise<PublishOutcome[]> {
    const now = this.now()
    const outcomes: PublishOutcome[] = []
    const jsons: Array<string | undefined> = []
    for (const input of inputs) {
      const ch = this.channel(appId, input.channel, now)
      if (ch.options.historySize !== options.historySize || ch.options.historyTtlSeconds !== options.historyTtlSeconds) {
        ch.options = { historySize: options.historySize, historyTtlSeconds: options.historyTtlSeconds }
      }
      ch.lastActivity = now
      if (input.id !== undefined) {
        const seen = seenId(ch, input.id, now)
        if (seen) {
          outcomes.push({ message: seen, duplicate: true })
          jsons.push(undefined)
          continue
        }
      }
      const message = buildMessage(input, ++ch.seq, ch.epoch, now)
      ch.history.push(message)
      trimHistory(ch, now)
      if (input.id !== undefined) rememberId(ch, input.id, message, now)
      outcomes.push({ message, duplicate: false })
      // Only a channel this node's hub subscribed to has anyone to send the JSON to.
      jsons.push(input.dataJson === undefined || !ch.subscribed ? undefined : messageJson(message, input.dataJson))
    }
    inputs.forEach((input, i) => {
      const o = outcomes[i]
      if (o && !o.duplicate) this.handler?.onMessage(appId, o.message, jsons[i], input.exclude)
    })
    return outcomes
  }

  async subscribe(appId: string, channel: string): Promise<void> {
    this.cache.subscribe(appId, channel)
  }

  async unsubscribe(appId: string, channel: string): Promise<void> {
    this.cache.unsubscribe(appId, channel)
  }

  async position(appId: string, channel: string): Promise<Position> {
    return this.cache.position(appId, channel)
  }

  async history(appId: string, channel: string, query: { limit: number; after?: number }): Promise<{ epoch: string; messages: Message[] }> {
    return this.cache.history(appId, channel, query)
  }

  async recover(appId: string, channel: string, since: Position, limit: number): Promise<RecoverResult> {
    return this.cache.recover(appId, channel, since, limit)
  }

  async removeApp(appId: string): Promise<void> {
    this.cache.removeApp(appId)
  }

  async ping(): Promise<void> {}

  async close(): Promise<void> {
    if (this.sweeper) clearInterval(this.sweeper)
    this.sweeper = null
    this.handler = null
  }

  /** Drops channels nobody uses whose history has fully expired; they come back in a new epoch. */
  private sweep(now = this.now()): void {
    this.cache.evict((ch, appId, channel) => this.cache.unused(appId, channel, ch, now))
  }

  /** The channel's state, made (in a new epoch) when missing or idle past its history TTL. */
  private channel(appId: string, channel: string, now: number): ChannelWindow {
    return this.cache.get(appId, channel, now)
  }
}

/** `JSON.stringify(message)` with `data` already serialized (`dataJson`), in {@link buildMessage}'s field order. */
export function messageJson(m: Message, dataJson: string): string {
  let s = `{"channel":${JSON.stringify(m.channel)},"id":${JSON.stringify(m.id)},"seq":${m.seq},"epoch":${JSON.stringify(m.epoch)}`
  if (m.name !== undefined) s += `,"name":${JSON.stringify(m.name)}`
  s += `,"data":${dataJson},"ts":${m.ts}`
  if (m.clientId !== undefined) s += `,"clientId":${JSON.stringify(m.clientId)}`
  return `${s}}`
}

/** The message in the contract's field order; `name` and `clientId` only when set. */
export function buildMessage(input: PublishInput, seq: number, epoch: string, ts: number): Message {
  const message: Partial<Message> = { channel: input.channel, id: input.id ?? newMessageId(), seq, epoch }
  if (input.name !== undefined) message.name = input.name
  message.data = input.data
  message.ts = ts
  if (input.clientId !== undefined) message.clientId = input.clientId
  return message as Message
}
