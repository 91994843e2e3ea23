import type { Message, Position } from '@herald/protocol'
import {
  IDEMPOTENCY_WINDOW_MS,
  type Broker,
  type BrokerHandler,
  type ChannelOptions,
  type NodeState,
  type PublishInput,
  type PublishOutcome,
  type RecoverResult,
} from './broker.js'
import { newEpoch, newMessageId } from './broker-ids.js'
import { recoverFrom, retained, selectHistory } from './broker-window.js'

/** Idempotency entries kept per channel at most; the oldest go first. */
const MAX_IDEMPOTENCY_ENTRIES = 10_000
/** Options assumed for a channel nobody published to yet (the app defaults). */
const DEFAULT_OPTIONS: ChannelOptions = { historySize: 100, historyTtlSeconds: 3600 }

export interface MemoryBrokerOptions {
  /** How often idle channels are swept (ms). Default 60 s. */
  sweepIntervalMs?: number
  /** Whether something outside the broker still uses the channel (presence members): it is not swept then. */
  inUse?: (appId: string, channel: string) => boolean
}

interface ChannelState {
  epoch: string
  seq: number
  history: Message[]
  idempotency: Map<string, { message: Message; expiresAt: number }>
  options: ChannelOptions
  lastActivity: number
  subscribed: boolean
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
  private readonly apps = new Map<string, Map<string, ChannelState>>()
  private sweeper: NodeJS.Timeout | null = null

  constructor(private readonly options: MemoryBrokerOptions = {}) {}

  /** `localState` is not used: cluster state has its own driver. */
  async start(handler: BrokerHandler, _localState?: () => NodeState): Promise<void> {
    this.handler = handler
    this.sweeper = setInterval(() => this.sweep(), this.options.sweepIntervalMs ?? 60_000)
    this.sweeper.unref()
  }

  async publish(appId: string, inputs: PublishInput[], options: ChannelOptions): Promise<PublishOutcome[]> {
    const now = Date.now()
    const outcomes: PublishOutcome[] = []
    const jsons: Array<string | undefined> = []
    for (const input of inputs) {
      const ch = this.channel(appId, input.channel, now)
      if (ch.options.historySize !== options.historySize || ch.options.historyTtlSeconds !== options.historyTtlSeconds) {
        ch.options = { historySize: options.historySize, historyTtlSeconds: options.historyTtlSeconds }
      }
      ch.lastActivity = now
      if (input.id !== undefined) {
        const seen = this.idempotent(ch, input.id, now)
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
    this.channel(appId, channel, Date.now()).subscribed = true
  }

  async unsubscribe(appId: string, channel: string): Promise<void> {
    const ch = this.apps.get(appId)?.get(channel)
    if (ch) {
      ch.subscribed = false
      ch.lastActivity = Date.now()
    }
  }

  async position(appId: string, channel: string): Promise<Position> {
    const ch = this.channel(appId, channel, Date.now())
    return { epoch: ch.epoch, seq: ch.seq }
  }

  async history(appId: string, channel: string, query: { limit: number; after?: number }): Promise<{ epoch: string; messages: Message[] }> {
    const now = Date.now()
    const ch = this.channel(appId, channel, now)
    trimHistory(ch, now)
    return { epoch: ch.epoch, messages: selectHistory(ch.history, query) }
  }

  async recover(appId: string, channel: string, since: Position, limit: number): Promise<RecoverResult> {
    const now = Date.now()
    const ch = this.channel(appId, channel, now)
    trimHistory(ch, now)
    return recoverFrom({ epoch: ch.epoch, seq: ch.seq }, ch.history, since, limit)
  }

  async removeApp(appId: string): Promise<void> {
    this.apps.delete(appId)
  }

  async ping(): Promise<void> {}

  async close(): Promise<void> {
    if (this.sweeper) clearInterval(this.sweeper)
    this.sweeper = null
    this.handler = null
  }

  /** Drops channels nobody uses whose history has fully expired; they come back in a new epoch. */
  private sweep(now = Date.now()): void {
    for (const [appId, channels] of this.apps) {
      for (const [name, ch] of channels) if (isIdle(ch, now) && !this.options.inUse?.(appId, name)) channels.delete(name)
      if (channels.size === 0) this.apps.delete(appId)
    }
  }

  /** The channel's state, made (in a new epoch) when missing or idle past its history TTL. */
  private channel(appId: string, channel: string, now: number): ChannelState {
    let channels = this.apps.get(appId)
    if (!channels) {
      channels = new Map()
      this.apps.set(appId, channels)
    }
    let ch = channels.get(channel)
    if (!ch || (isIdle(ch, now) && !this.options.inUse?.(appId, channel))) {
      ch = {
        epoch: newEpoch(),
        seq: 0,
        history: [],
        idempotency: new Map(),
        options: DEFAULT_OPTIONS,
        lastActivity: now,
        subscribed: false,
      }
      channels.set(channel, ch)
    }
    return ch
  }

  private idempotent(ch: ChannelState, id: string, now: number): Message | null {
    for (const [key, entry] of ch.idempotency) {
      if (entry.expiresAt > now) break
      ch.idempotency.delete(key)
    }
    const entry = ch.idempotency.get(id)
    return entry && entry.expiresAt > now ? entry.message : null
  }
}

function isIdle(ch: ChannelState, now: number): boolean {
  return !ch.subscribed && now - ch.lastActivity > ch.options.historyTtlSeconds * 1000
}

function trimHistory(ch: ChannelState, now: number): void {
  const size = Math.max(0, ch.options.historySize)
  if (ch.history.length > size) ch.history.splice(0, ch.history.length - size)
  // Every entry is of the channel's epoch and `ts` never decreases: when the oldest is inside
  // the window, all are (no copy of the history per publish).
  const oldest = ch.history[0]
  if (oldest === undefined || (oldest.ts >= now - ch.options.historyTtlSeconds * 1000 && oldest.epoch === ch.epoch)) return
  const live = retained(ch.history, ch.epoch, ch.options.historyTtlSeconds, now)
  if (live.length !== ch.history.length) ch.history = live
}

function rememberId(ch: ChannelState, id: string, message: Message, now: number): void {
  ch.idempotency.set(id, { message, expiresAt: now + IDEMPOTENCY_WINDOW_MS })
  if (ch.idempotency.size > MAX_IDEMPOTENCY_ENTRIES) {
    const oldest = ch.idempotency.keys().next()
    if (!oldest.done) ch.idempotency.delete(oldest.value)
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
