import type { Message, PresenceEvent } from '@herald/protocol'
import type { Broker, BrokerHandler, NodeState } from './broker.js'
import { EncodedMessage, EncodedPresence } from './encoded.js'

/** Where a subscription's messages and presence events go (one per session and channel). */
export interface Sink {
  /** The session the sink belongs to: messages published with this `exclude` skip it. */
  readonly sessionId?: string | undefined
  message(m: EncodedMessage): void
  /**
   * A message published with this sink's session as `exclude`: not for its client, but part of
   * the channel's sequence (a subscription counts its `seq` as seen, so the next message is no gap).
   */
  skip?(m: EncodedMessage): void
  presence(p: EncodedPresence): void
}

/**
 * A session as the hub sees it, whatever its protocol and wire ({@link ClientSession} is one).
 * The hub counts them (the app's connection limit) and closes them (key revoked, app deleted,
 * shutdown); messages reach them through the {@link Sink}s of their subscriptions.
 */
export interface HubSession {
  readonly id: string
  readonly appId: string
  /** The wire kind (`websocket`, `sse`, `longpoll`, …). */
  readonly transport: string
  /** The key behind the session's credentials (undefined when anonymous). */
  readonly keyId: string | undefined
  /** The user a protocol signed in (Pusher), if any. */
  readonly userId?: string | undefined
  /** Ends the session with a contract close code (or its HTTP/SSE equivalent). */
  close(code: number, reason: string): void
}

/** The first local subscriber of a channel came / the last one left (see SessionListener). */
export interface OccupancyHandler {
  occupied(appId: string, channel: string): void
  vacated(appId: string, channel: string): void
}

interface AppCounters {
  published: number
  delivered: number
}

/**
 * The node's local view, and its only registry of sessions: which sessions are open and which
 * sinks listen to which channel, per app. It asks the broker for a channel on its first local
 * subscriber and releases it after the last one; the broker calls back `onMessage` /
 * `onPresence`. Each message is encoded once per wire format (see `EncodedMessage.as`) and
 * the same bytes go to every sink of that format.
 */
export class Hub implements BrokerHandler {
  private readonly sessionsByApp = new Map<string, Set<HubSession>>()
  private readonly channels = new Map<string, Map<string, Set<Sink>>>()
  private readonly pending = new Map<string, Promise<void>>()
  private readonly counters = new Map<string, AppCounters>()

  constructor(
    private readonly broker: Pick<Broker, 'subscribe' | 'unsubscribe'>,
    private readonly occupancy?: OccupancyHandler,
    private readonly onError: (err: unknown, what: string) => void = () => {},
  ) {}

  // ---- sessions ----------------------------------------------------------------------

  add(session: HubSession): void {
    let set = this.sessionsByApp.get(session.appId)
    if (!set) {
      set = new Set()
      this.sessionsByApp.set(session.appId, set)
    }
    set.add(session)
  }

  remove(session: HubSession): void {
    const set = this.sessionsByApp.get(session.appId)
    if (!set) return
    set.delete(session)
    if (set.size === 0) this.sessionsByApp.delete(session.appId)
  }

  sessionCount(appId: string): number {
    return this.sessionsByApp.get(appId)?.size ?? 0
  }

  totalSessions(): number {
    let n = 0
    for (const set of this.sessionsByApp.values()) n += set.size
    return n
  }

  /** The app's sessions that match (all when no predicate), e.g. by `userId`, `keyId` or `id`. */
  find(appId: string, match?: (s: HubSession) => boolean): HubSession[] {
    const set = this.sessionsByApp.get(appId)
    if (!set) return []
    return match ? [...set].filter(match) : [...set]
  }

  /** Closes the app's sessions that match (all when no predicate); returns how many. */
  closeSessions(appId: string, code: number, reason: string, match?: (s: HubSession) => boolean): number {
    const found = this.find(appId, match)
    for (const s of found) s.close(code, reason)
    return found.length
  }

  /** Every open session of every app, or of one wire kind. */
  *sessions(kind?: string): IterableIterator<HubSession> {
    for (const set of this.sessionsByApp.values()) {
      if (kind === undefined) yield* set
      else for (const s of set) if (s.transport === kind) yield s
    }
  }

  /** Closes every session of every app (shutdown). */
  closeAll(code: number, reason: string): void {
    for (const appId of [...this.sessionsByApp.keys()]) this.closeSessions(appId, code, reason)
  }

  // ---- subscriptions -----------------------------------------------------------------

  /** Adds a sink to a channel; resolves once the broker delivers the channel to this node. */
  async subscribe(appId: string, channel: string, sink: Sink): Promise<void> {
    let app = this.channels.get(appId)
    if (!app) {
      app = new Map()
      this.channels.set(appId, app)
    }
    let sinks = app.get(channel)
    const key = appId + '\u0000' + channel
    if (!sinks) {
      sinks = new Set([sink])
      app.set(channel, sinks)
      this.occupancy?.occupied(appId, channel)
      const p = this.broker.subscribe(appId, channel)
      this.pending.set(key, p)
      try {
        await p
      } catch (err) {
        this.removeSink(appId, channel, sink)
        throw err
      } finally {
        if (this.pending.get(key) === p) this.pending.delete(key)
      }
      return
    }
    sinks.add(sink)
    await this.pending.get(key)
  }

  unsubscribe(appId: string, channel: string, sink: Sink): void {
    if (this.removeSink(appId, channel, sink)) {
      this.broker.unsubscribe(appId, channel).catch((err: unknown) => this.onError(err, 'broker unsubscribe failed'))
    }
  }

  /** Removes the sink; true when it was the channel's last local one. */
  private removeSink(appId: string, channel: string, sink: Sink): boolean {
    const app = this.channels.get(appId)
    const sinks = app?.get(channel)
    if (!app || !sinks?.delete(sink)) return false
    if (sinks.size > 0) return false
    app.delete(channel)
    if (app.size === 0) this.channels.delete(appId)
    this.occupancy?.vacated(appId, channel)
    return true
  }

  subscriberCount(appId: string, channel: string): number {
    return this.channels.get(appId)?.get(channel)?.size ?? 0
  }

  // ---- broker callbacks --------------------------------------------------------------

  onMessage(appId: string, message: Message, json?: string, exclude?: string): void {
    const sinks = this.channels.get(appId)?.get(message.channel)
    if (!sinks || sinks.size === 0) return
    const encoded = EncodedMessage.of(message, json)
    let delivered = sinks.size
    if (exclude === undefined) {
      for (const sink of sinks) sink.message(encoded)
    } else {
      for (const sink of sinks) {
        if (sink.sessionId === exclude) {
          delivered--
          sink.skip?.(encoded)
        } else sink.message(encoded)
      }
    }
    this.count(appId).delivered += delivered
  }

  onPresence(appId: string, event: PresenceEvent): void {
    const sinks = this.channels.get(appId)?.get(event.channel)
    if (!sinks || sinks.size === 0) return
    const encoded = EncodedPresence.of(event)
    for (const sink of sinks) sink.presence(encoded)
  }

  // ---- counters ----------------------------------------------------------------------

  private count(appId: string): AppCounters {
    let c = this.counters.get(appId)
    if (!c) {
      c = { published: 0, delivered: 0 }
      this.counters.set(appId, c)
    }
    return c
  }

  countPublished(appId: string, n: number): void {
    this.count(appId).published += n
  }

  /** Deliveries made outside `onMessage` (history replay on resume). */
  countDelivered(appId: string, n: number): void {
    this.count(appId).delivered += n
  }

  /** Drops everything local of a deleted app. */
  forgetApp(appId: string): void {
    this.counters.delete(appId)
  }

  /** This node's counters and subscriptions, per app. */
  localState(): NodeState {
    const state: NodeState = {}
    const appIds = new Set([...this.sessionsByApp.keys(), ...this.channels.keys(), ...this.counters.keys()])
    for (const appId of appIds) {
      const channels: Record<string, number> = {}
      for (const [name, sinks] of this.channels.get(appId) ?? []) channels[name] = sinks.size
      const c = this.counters.get(appId)
      state[appId] = { connections: this.sessionCount(appId), channels, published: c?.published ?? 0, delivered: c?.delivered ?? 0 }
    }
    return state
  }
}
