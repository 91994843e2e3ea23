import type { Message, Position, PresenceMember } from '@herald/protocol'
import type { AppRegistry, CachedKey } from '../apps/registry.js'
import type { App } from '../apps/types.js'
import { identifyClient, identifyRequest } from '../auth/credentials.js'
import type { Identity } from '../auth/identity.js'
import type { Config } from '../config.js'
import { HeraldError, toHeraldError } from '../errors.js'
import type { Logger } from '../logger.js'
import type { Metrics } from '../metrics.js'
import type { AppClusterState, Broker, PublishInput, PublishOutcome, RecoverResult } from './broker.js'
import type { ClusterState } from './cluster-state.js'
import { Hub, type HubSession } from './hub.js'
import { AppRateLimiter } from './limits.js'
import type { PresenceManager } from './presence.js'
import { Publisher, type RawMessage } from './publisher.js'
import { ClientSession, type SessionInit } from './session.js'
import { SessionEvents, type SessionListener } from './session-events.js'
import type { WireKind } from './wire.js'

/** Seconds a client refused for the connection limit is told to wait (`Retry-After`). */
export const LIMIT_RETRY_AFTER_SECONDS = 5

/** The drivers behind an engine (see `createNode(config, deps)`). */
export interface EngineDrivers {
  /** Pub/sub and history. */
  broker: Broker
  presence: PresenceManager
  clusterState: ClusterState
}

export interface EngineOptions extends EngineDrivers {
  config: Pick<Config, 'sendBufferBytes' | 'maxSubscriptionsPerConnection'>
  logger: Logger
  metrics: Metrics
  registry: AppRegistry
}

/** What a {@link ClientSession} uses of its engine (internal to `engine/`). */
export interface SessionHost {
  readonly config: Pick<Config, 'sendBufferBytes' | 'maxSubscriptionsPerConnection'>
  readonly logger: Logger
  readonly metrics: Metrics
  readonly hub: Hub
  readonly broker: Pick<Broker, 'position' | 'history' | 'recover'>
  readonly presence: Pick<PresenceManager, 'add' | 'remove'>
  readonly events: SessionEvents
  validate(app: App, identity: Identity, raw: RawMessage, options?: { authorized?: boolean }): PublishInput
  publish(app: App, inputs: PublishInput[], via: string): Promise<PublishOutcome[]>
  history(appId: string, channel: string, query: { limit: number; after?: number }): Promise<{ epoch: string; messages: Message[] }>
  members(appId: string, channel: string): Promise<PresenceMember[]>
  sessionClosed(session: ClientSession, code: number, reason: string): void
}

/**
 * The engine façade: the one place wires and HTTP routes go through for apps, identities,
 * sessions, publishing, history, presence and channel state. Nothing above it (protocols,
 * transports, http) touches a broker, presence manager or app store directly; nothing in it
 * knows a protocol or a wire format.
 *
 * @example
 * const app = await engine.app(appId)
 * const identity = await engine.identify(app, token, 'websocket')
 * const session = engine.open({ app, identity, wire })   // throws limit_exceeded past maxConnections
 * await session.subscribe('chat', { subscribed: (info) => wire.sendSubscribed(info) })
 * await engine.publish(app, [engine.validate(app, identity, { channel: 'chat', data: 'hi' })], 'rest')
 */
export class Engine implements SessionHost {
  readonly hub: Hub
  readonly events: SessionEvents
  readonly broker: Broker
  readonly presence: PresenceManager
  readonly clusterState: ClusterState
  readonly config: EngineOptions['config']
  readonly logger: Logger
  readonly metrics: Metrics
  private readonly registry: AppRegistry
  private readonly limiter = new AppRateLimiter()
  private readonly publisher: Publisher

  constructor(options: EngineOptions) {
    this.config = options.config
    this.logger = options.logger
    this.metrics = options.metrics
    this.registry = options.registry
    this.broker = options.broker
    this.presence = options.presence
    this.clusterState = options.clusterState
    this.events = new SessionEvents((err, event) => this.logger.error({ err, event }, 'session listener failed'))
    this.hub = new Hub(
      this.broker,
      {
        occupied: (appId, channel) => this.events.emit('occupied', appId, channel),
        vacated: (appId, channel) => this.events.emit('vacated', appId, channel),
      },
      (err, what) => this.logger.warn({ err }, what),
    )
    this.publisher = new Publisher(this.broker, this.hub, this.limiter, (err, appId) =>
      this.logger.error({ err, app: appId }, 'publish refused: the broker failed'),
    )
  }

  /** Starts the drivers: the broker and presence manager deliver to the hub; cluster state reads the hub. */
  async start(): Promise<void> {
    await this.broker.start(this.hub, () => this.hub.localState())
    await this.presence.start(this.hub)
    await this.clusterState.start(() => this.hub.localState())
  }

  /** Closes the drivers (after the sessions are closed). Each failure is logged. */
  async close(): Promise<void> {
    for (const [name, d] of [
      ['broker', this.broker],
      ['presence', this.presence],
      ['cluster state', this.clusterState],
    ] as const) {
      await d.close().catch((err: unknown) => this.logger.warn({ err }, `${name} close failed`))
    }
  }

  /** Adds a listener of session and channel events; returns the function that removes it. */
  listen(listener: SessionListener): () => void {
    return this.events.listen(listener)
  }

  // ---- apps and identities -----------------------------------------------------------

  /** The app (cached), or undefined when there is none. */
  app(appId: string): Promise<App | undefined> {
    return this.registry.app(appId).then((a) => a ?? undefined)
  }

  /** A client's token (WebSocket, SSE, poll `token`); none is anonymous. Counts auth failures under `kind`. */
  async identify(app: App, token: string | null | undefined, kind: WireKind): Promise<Identity> {
    try {
      return await identifyClient(this.registry, app, token)
    } catch (err) {
      this.metrics.authFailures.inc({ app: app.id, transport: kind, code: toHeraldError(err).code })
      throw err
    }
  }

  /** A REST call's `Authorization` header (Basic or Bearer); none is anonymous. */
  identifyRequest(app: App, authorization: string | undefined): Promise<Identity> {
    return identifyRequest(this.registry, app, authorization)
  }

  /** The app a keyId belongs to, or null (the Pusher face names only the key: `/app/:key`). */
  appIdOfKey(keyId: string): Promise<string | null> {
    return this.registry.appIdOfKey(keyId)
  }

  /** A live key of the app with its secret and compiled capability (Pusher signatures are HMACs of it), or null. */
  key(appId: string, keyId: string): Promise<CachedKey | null> {
    return this.registry.activeKey(appId, keyId)
  }

  /** Whether the key still exists and is active (revalidation after a control-bus outage). */
  async keyActive(appId: string, keyId: string): Promise<boolean> {
    return (await this.registry.activeKey(appId, keyId)) !== null
  }

  // ---- sessions ----------------------------------------------------------------------

  /**
   * Whether the app has room for one more session: this node's sessions plus the other nodes'
   * as last reported (a cluster may exceed `maxConnections` by what the other nodes admitted
   * since their last report, about two state intervals).
   */
  hasRoom(app: App): boolean {
    const elsewhere = this.clusterState.remoteConnections?.(app.id) ?? 0
    return this.hub.sessionCount(app.id) + elsewhere < app.settings.maxConnections
  }

  /** The `limit_exceeded` refusal of a session past the app's `maxConnections` (429 with Retry-After). */
  connectionLimit(app: App): HeraldError {
    return new HeraldError('limit_exceeded', `the app allows ${app.settings.maxConnections} connections`, LIMIT_RETRY_AFTER_SECONDS)
  }

  /**
   * Admits and registers a session: throws (and counts the rejection) `limit_exceeded` when
   * the app has `maxConnections` sessions (this node's and, in a cluster, the others' as last reported); otherwise the session is in the hub,
   * counted, and listeners are told `opened`.
   */
  open(init: SessionInit): ClientSession {
    const { app, wire } = init
    if (!this.hasRoom(app)) {
      this.metrics.rejected.inc({ app: app.id, transport: wire.kind, code: 'limit_exceeded' })
      throw this.connectionLimit(app)
    }
    const expires = init.expires ?? true
    const session = new ClientSession(this, init, app, init.identity, wire, expires)
    this.hub.add(session)
    this.metrics.connectionOpened(app.id, wire.kind)
    this.events.emit('opened', session)
    return session
  }

  /** Called by a session once its wire is gone. */
  sessionClosed(session: ClientSession, code: number, reason: string): void {
    this.hub.remove(session)
    this.metrics.connectionClosed(session.appId, session.kind)
    this.events.emit('closed', session, code, reason)
  }

  /** The app's sessions that match, e.g. `(s) => s.userId === 'u1'`. */
  sessions(appId: string, match?: (s: HubSession) => boolean): HubSession[] {
    return this.hub.find(appId, match)
  }

  /** Closes the app's sessions that match (all without a predicate), whatever their wire. */
  closeSessions(appId: string, code: number, reason: string, match?: (s: HubSession) => boolean): number {
    return this.hub.closeSessions(appId, code, reason, match)
  }

  /** Closes every session of the node (shutdown). */
  closeAll(code: number, reason: string): void {
    this.hub.closeAll(code, reason)
  }

  // ---- messages ----------------------------------------------------------------------

  /**
   * Checks one message (fields, size, `publish` capability); returns the broker input. With
   * `authorized`, the caller checked the right to publish itself (Pusher client events).
   */
  validate(app: App, identity: Identity, raw: RawMessage, options: { authorized?: boolean } = {}): PublishInput {
    return this.publisher.validate(app, identity, raw, options.authorized)
  }

  /** Publishes validated inputs, all or none (rate limit of the app); counts them under `via`. */
  async publish(app: App, inputs: PublishInput[], via: string): Promise<PublishOutcome[]> {
    const outcomes = await this.publisher.publish(app, inputs)
    this.metrics.countPublished(app.id, via, outcomes.length)
    return outcomes
  }

  /** Deliveries a wire made outside the hub's fan-out (a poll's answer). */
  countDelivered(appId: string, n: number): void {
    this.hub.countDelivered(appId, n)
  }

  history(appId: string, channel: string, query: { limit: number; after?: number }): Promise<{ epoch: string; messages: Message[] }> {
    return this.broker.history(appId, channel, query)
  }

  position(appId: string, channel: string): Promise<Position> {
    return this.broker.position(appId, channel)
  }

  recover(appId: string, channel: string, since: Position, limit: number): Promise<RecoverResult> {
    return this.broker.recover(appId, channel, since, limit)
  }

  members(appId: string, channel: string): Promise<PresenceMember[]> {
    return this.presence.members(appId, channel)
  }

  /** Connections, channels and counters of the app over every node. */
  state(appId: string): Promise<AppClusterState> {
    return this.clusterState.appState(appId)
  }

  /** Channels with at least one subscriber on any node, by name, optionally by prefix. */
  async channels(appId: string, prefix?: string): Promise<Array<{ name: string; subscribers: number }>> {
    const state = await this.state(appId)
    return Object.entries(state.channels)
      .filter(([name, n]) => n > 0 && (!prefix || name.startsWith(prefix)))
      .sort(([a], [b]) => (a < b ? -1 : 1))
      .map(([name, subscribers]) => ({ name, subscribers }))
  }

  /** Drops everything of a deleted app: its sessions are closed by the caller first. */
  async removeApp(appId: string): Promise<void> {
    this.hub.forgetApp(appId)
    this.limiter.forget(appId)
    await Promise.all([this.broker.removeApp(appId), this.presence.removeApp(appId)])
  }

  /** Throws when the broker cannot be reached (`/readyz`). */
  ping(): Promise<void> {
    return this.broker.ping()
  }
}
