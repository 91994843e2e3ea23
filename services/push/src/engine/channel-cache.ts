import type { Message, Position } from '@herald/protocol'
import { type ChannelOptions, IDEMPOTENCY_WINDOW_MS, type RecoverResult } from './broker.js'
import { recoverFrom, retained, selectHistory } from './broker-window.js'

/** Options assumed for a channel nobody published to yet (or since it was loaded): the app defaults. */
export const DEFAULT_CHANNEL_OPTIONS: ChannelOptions = { historySize: 100, historyTtlSeconds: 3600 }
/** Publisher ids kept per channel in memory at most; the oldest go first. */
const MAX_IDEMPOTENCY_ENTRIES = 10_000

/** What a single-process broker keeps in memory for one channel: its position, history window and publisher ids. */
export interface ChannelWindow {
  epoch: string
  /** Last committed seq: what readers see. */
  seq: number
  /** Messages of the epoch, oldest first (what `history` / `recover` read). */
  history: Message[]
  idempotency: Map<string, { message: Message; expiresAt: number }>
  options: ChannelOptions
  lastActivity: number
  subscribed: boolean
}

export interface ChannelCacheOptions<S extends ChannelWindow> {
  /** The clock. */
  now: () => number
  /**
   * The state to cache for a channel that is not cached (`stale` undefined) or whose cached
   * state is {@link ChannelCache.unused} past its history TTL (`stale`: every message of it has
   * expired, so its history really is gone and it continues in a new epoch).
   */
  open: (appId: string, channel: string, now: number, stale?: S) => S
  /** Whether something outside the broker still uses the channel (presence members): it keeps its epoch then. */
  inUse?: (appId: string, channel: string) => boolean
  /** A channel for which this says true is never idle (writes not committed yet). */
  busy?: (ch: S) => boolean
}

/**
 * The in-memory channel states of a single-process broker, per app, and the reads every such
 * broker answers from them (subscribe flags, position, history, recover). Time comes from the
 * injected clock only.
 *
 * @example
 * const cache = new ChannelCache({ now: Date.now, open: (_app, _ch, now) => newChannelWindow(newEpoch(), 0, now) })
 * cache.get('app_1', 'chat').seq // 0
 */
export class ChannelCache<S extends ChannelWindow> {
  private readonly apps = new Map<string, Map<string, S>>()

  constructor(private readonly options: ChannelCacheOptions<S>) {}

  /** The channel's state, opened when missing or unused past its history TTL. */
  get(appId: string, channel: string, now = this.options.now()): S {
    let app = this.apps.get(appId)
    if (!app) {
      app = new Map()
      this.apps.set(appId, app)
    }
    const cached = app.get(channel)
    if (cached && !this.unused(appId, channel, cached, now)) return cached
    const ch = this.options.open(appId, channel, now, cached)
    app.set(channel, ch)
    return ch
  }

  /** The cached state, if any, as it is. */
  peek(appId: string, channel: string): S | undefined {
    return this.apps.get(appId)?.get(channel)
  }

  /** Forgets one channel's state. */
  delete(appId: string, channel: string): void {
    this.apps.get(appId)?.delete(channel)
  }

  removeApp(appId: string): void {
    this.apps.delete(appId)
  }

  /** Every cached channel state. */
  *values(): IterableIterator<S> {
    for (const app of this.apps.values()) yield* app.values()
  }

  /** Forgets every channel for which `drop` says true (and apps left without channels). */
  evict(drop: (ch: S, appId: string, channel: string) => boolean): void {
    for (const [appId, app] of this.apps) {
      for (const [name, ch] of app) if (drop(ch, appId, name)) app.delete(name)
      if (app.size === 0) this.apps.delete(appId)
    }
  }

  /** Nobody is subscribed, nothing is pending and nothing happened for `ms` (default: the history TTL). */
  idle(ch: S, now: number, ms = ch.options.historyTtlSeconds * 1000): boolean {
    return !ch.subscribed && !this.options.busy?.(ch) && now - ch.lastActivity > ms
  }

  /** {@link idle} and not in use outside the broker. */
  unused(appId: string, channel: string, ch: S, now: number, ms?: number): boolean {
    return this.idle(ch, now, ms) && !this.options.inUse?.(appId, channel)
  }

  subscribe(appId: string, channel: string): void {
    this.get(appId, channel).subscribed = true
  }

  unsubscribe(appId: string, channel: string): void {
    const ch = this.peek(appId, channel)
    if (ch) {
      ch.subscribed = false
      ch.lastActivity = this.options.now()
    }
  }

  position(appId: string, channel: string): Position {
    const ch = this.get(appId, channel)
    return { epoch: ch.epoch, seq: ch.seq }
  }

  history(appId: string, channel: string, query: { limit: number; after?: number }): { epoch: string; messages: Message[] } {
    const now = this.options.now()
    const ch = this.get(appId, channel, now)
    trimHistory(ch, now)
    return { epoch: ch.epoch, messages: selectHistory(ch.history, query) }
  }

  recover(appId: string, channel: string, since: Position, limit: number): RecoverResult {
    const now = this.options.now()
    const ch = this.get(appId, channel, now)
    trimHistory(ch, now)
    return recoverFrom({ epoch: ch.epoch, seq: ch.seq }, ch.history, since, limit)
  }
}

/** A channel window with no history, no publisher ids and the default options. */
export function newChannelWindow(epoch: string, seq: number, now: number): ChannelWindow {
  return { epoch, seq, history: [], idempotency: new Map(), options: DEFAULT_CHANNEL_OPTIONS, lastActivity: now, subscribed: false }
}

/** Keeps the newest `historySize` messages that are still inside the TTL. */
export function trimHistory(ch: ChannelWindow, now: number): void {
  const size = Math.max(0, ch.options.historySize)
  if (ch.history.length > size) ch.history.splice(0, ch.history.length - size)
  // Every entry is of the channel's epoch and `ts` never decreases: when the oldest is inside
  // the window, all are (no copy of the history per publish).
  const oldest = ch.history[0]
  if (oldest === undefined || (oldest.ts >= now - ch.options.historyTtlSeconds * 1000 && oldest.epoch === ch.epoch)) return
  const live = retained(ch.history, ch.epoch, ch.options.historyTtlSeconds, now)
  if (live.length !== ch.history.length) ch.history = live
}

/** The message first published with this publisher id, when that was inside the idempotency window. */
export function seenId(ch: ChannelWindow, id: string, now: number): Message | null {
  for (const [key, entry] of ch.idempotency) {
    if (entry.expiresAt > now) break
    ch.idempotency.delete(key)
  }
  const entry = ch.idempotency.get(id)
  return entry && entry.expiresAt > now ? entry.message : null
}

/** Remembers a publisher id for {@link IDEMPOTENCY_WINDOW_MS} from `now`. */
export function rememberId(ch: ChannelWindow, id: string, message: Message, now: number): void {
  ch.idempotency.set(id, { message, expiresAt: now + IDEMPOTENCY_WINDOW_MS })
  if (ch.idempotency.size > MAX_IDEMPOTENCY_ENTRIES) {
    const oldest = ch.idempotency.keys().next()
    if (!oldest.done) ch.idempotency.delete(oldest.value)
  }
}
