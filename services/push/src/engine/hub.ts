import type { Message, PresenceEvent } from '@herald/protocol'
import type { Connection } from '../transports/transport.js'
import type { Broker, BrokerHandler, NodeState } from './broker.js'
import { EncodedMessage, EncodedPresence } from './encoded.js'

/** Where a subscription's messages and presence events go (one per connection and channel). */
export interface Sink {
  message(m: EncodedMessage): void
  presence(p: EncodedPresence): void
}

interface AppCounters {
  published: number
  delivered: number
}

/**
 * The node's local view: which connections are open and which sinks listen to which
 * channel, per app. It asks the broker for a channel on its first local subscriber and
 * releases it after the last one; the broker calls back `onMessage` / `onPresence`.
 * Each message is encoded once here and the same bytes go to every sink.
 */
export class Hub implements BrokerHandler {
  private readonly connections = new Map<string, Set<Connection>>()
  private readonly channels = new Map<string, Map<string, Set<Sink>>>()
  private readonly pending = new Map<string, Promise<void>>()
  private readonly counters = new Map<string, AppCounters>()

  constructor(private readonly broker: Broker) {}

  // ---- connections -------------------------------------------------------------------

  addConnection(conn: Connection): void {
    let set = this.connections.get(conn.appId)
    if (!set) this.connections.set(conn.appId, (set = new Set()))
    set.add(conn)
  }

  removeConnection(conn: Connection): void {
    const set = this.connections.get(conn.appId)
    if (!set) return
    set.delete(conn)
    if (set.size === 0) this.connections.delete(conn.appId)
  }

  connectionCount(appId: string): number {
    return this.connections.get(appId)?.size ?? 0
  }

  totalConnections(): number {
    let n = 0
    for (const set of this.connections.values()) n += set.size
    return n
  }

  /** Closes the app's connections that match (all when no predicate). */
  closeConnections(appId: string, code: number, reason: string, match?: (c: Connection) => boolean): number {
    const set = this.connections.get(appId)
    if (!set) return 0
    let n = 0
    for (const conn of [...set]) {
      if (!match || match(conn)) {
        conn.close(code, reason)
        n++
      }
    }
    return n
  }

  /** Every open connection of every app. */
  *allConnections(): IterableIterator<Connection> {
    for (const set of this.connections.values()) yield* set
  }

  /** Closes every connection of every app (shutdown). */
  closeAll(code: number, reason: string): void {
    for (const appId of [...this.connections.keys()]) this.closeConnections(appId, code, reason)
  }

  // ---- subscriptions -----------------------------------------------------------------

  /** Adds a sink to a channel; resolves once the broker delivers the channel to this node. */
  async subscribe(appId: string, channel: string, sink: Sink): Promise<void> {
    let app = this.channels.get(appId)
    if (!app) this.channels.set(appId, (app = new Map()))
    let sinks = app.get(channel)
    const key = appId + '\u0000' + channel
    if (!sinks) {
      app.set(channel, (sinks = new Set()))
      sinks.add(sink)
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
      this.broker.unsubscribe(appId, channel).catch(() => {})
    }
  }

  /** Removes the sink; true when it was the channel's last local one. */
  private removeSink(appId: string, channel: string, sink: Sink): boolean {
    const app = this.channels.get(appId)
    const sinks = app?.get(channel)
    if (!app || !sinks || !sinks.delete(sink)) return false
    if (sinks.size > 0) return false
    app.delete(channel)
    if (app.size === 0) this.channels.delete(appId)
    return true
  }

  subscriberCount(appId: string, channel: string): number {
    return this.channels.get(appId)?.get(channel)?.size ?? 0
  }

  // ---- broker callbacks --------------------------------------------------------------

  onMessage(appId: string, message: Message, json?: string): void {
    const sinks = this.channels.get(appId)?.get(message.channel)
    if (!sinks || sinks.size === 0) return
    const encoded = EncodedMessage.of(message, json)
    for (const sink of sinks) sink.message(encoded)
    this.count(appId).delivered += sinks.size
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
    if (!c) this.counters.set(appId, (c = { published: 0, delivered: 0 }))
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
    const appIds = new Set([...this.connections.keys(), ...this.channels.keys(), ...this.counters.keys()])
    for (const appId of appIds) {
      const channels: Record<string, number> = {}
      for (const [name, sinks] of this.channels.get(appId) ?? []) channels[name] = sinks.size
      const c = this.counters.get(appId)
      state[appId] = { connections: this.connectionCount(appId), channels, published: c?.published ?? 0, delivered: c?.delivered ?? 0 }
    }
    return state
  }
}
