import type { Message, Position, PresenceEvent } from '@herald/protocol'

/** What a publisher hands the broker for one message. Validated before it gets here. */
export interface PublishInput {
  channel: string
  name?: string
  data: unknown
  /**
   * `JSON.stringify(data)` when the caller already has it (the publisher measures it for the
   * size limit): drivers put it into the message JSON instead of serializing `data` again.
   */
  dataJson?: string
  /** Publisher-given id: a repeat on the same channel within {@link IDEMPOTENCY_WINDOW_MS} is not delivered again. */
  id?: string
  clientId?: string
  /**
   * A session id: every node delivers the message to all its subscribers but that session
   * (Pusher `socket_id` exclusion, client events not echoed to their sender). Not part of the
   * public Message; a driver carries it to {@link BrokerHandler.onMessage} as is.
   */
  exclude?: string
}

/** Per-app channel limits, taken from the app's settings on each call. */
export interface ChannelOptions {
  historySize: number
  historyTtlSeconds: number
  /**
   * The app's publish rate. A driver shared by several nodes (Redis) enforces it for the app
   * over all of them, atomically with the publish, and throws `rate_limited` past it; a
   * single-process driver leaves it to the node's own bucket.
   */
  publishRatePerSecond?: number
}

export interface PublishOutcome {
  message: Message
  /** True when the publisher id was seen in the window: nothing was delivered, `message` is the first one's. */
  duplicate: boolean
}

export interface RecoverResult {
  /** The channel's current position. */
  position: Position
  /** Messages after `since`, in order (empty when not recovered). */
  messages: Message[]
  /** False when the epoch changed or `since` is older than the history window. */
  recovered: boolean
}

export const IDEMPOTENCY_WINDOW_MS = 120_000

/** Counters and local subscriptions of one node, for cluster-wide stats and the channel list. */
export interface AppNodeState {
  connections: number
  /** channel -> local subscriber count */
  channels: Record<string, number>
  published: number
  delivered: number
}
export type NodeState = Record<string, AppNodeState>

export interface AppClusterState {
  connections: number
  channels: Record<string, number>
  published: number
  delivered: number
  nodes: number
}

/**
 * Callbacks from the broker to the node's hub. The broker never reaches into the hub;
 * it calls these for every message and presence change of a channel this node subscribed to.
 */
export interface BrokerHandler {
  /**
   * A message to deliver to local subscribers. `json` is `JSON.stringify(message)` when the
   * broker already has it (a Redis payload), so the hub does not serialize it again.
   * `exclude` is the publish input's {@link PublishInput.exclude}: that session is skipped.
   */
  onMessage(appId: string, message: Message, json?: string, exclude?: string): void
  onPresence(appId: string, event: PresenceEvent): void
}

/**
 * The push engine's pub/sub and history backend: publish, node subscriptions, positions and
 * history. Presence ({@link PresenceManager}, `presence.ts`) and cluster state
 * ({@link ClusterState}, `cluster-state.ts`) are separate interfaces with drivers of their own.
 * Drivers: `broker-memory.ts` (one process), `broker-sqlite.ts` (one process, durable history), `broker-redis.ts` (many nodes).
 *
 * Guarantees every driver keeps:
 * - Per channel, `seq` starts at 1 and grows by exactly 1 within an `epoch`; the epoch changes
 *   only when the channel's history was lost (expiry of the whole channel, a broker restart).
 * - Idempotency check, `seq` assignment, history append and fan-out are one atomic step:
 *   two publishers never get the same `seq`, and history never misses a delivered message.
 * - A call to `publish` with several inputs applies all of them or none.
 * - Delivery to nodes is at most once and in order per channel; loss is repaired by clients
 *   through `recover` (history), which is why positions are part of every message.
 */
export interface Broker {
  readonly driver: string
  /** `localState` returns this node's counters (for drivers that need them; cluster state has its own interface). */
  start(handler: BrokerHandler, localState: () => NodeState): Promise<void>
  publish(appId: string, inputs: PublishInput[], options: ChannelOptions): Promise<PublishOutcome[]>
  /** This node wants messages and presence events of the channel (first local subscriber). */
  subscribe(appId: string, channel: string): Promise<void>
  /** No local subscriber is left on the channel. */
  unsubscribe(appId: string, channel: string): Promise<void>
  /** The channel's current position (`seq` 0 in a fresh epoch when it has no messages). */
  position(appId: string, channel: string): Promise<Position>
  /** Messages after `after` (seq), oldest first, at most `limit`; without `after`, the latest `limit`. */
  history(appId: string, channel: string, query: { limit: number; after?: number }): Promise<{ epoch: string; messages: Message[] }>
  /** Messages after `since` when it is still inside the history window of the same epoch. */
  recover(appId: string, channel: string, since: Position, limit: number): Promise<RecoverResult>
  /** Drops everything the app owns (history, positions; with Redis every key of the app). */
  removeApp(appId: string): Promise<void>
  /** Throws when the backend cannot be reached (used by `/readyz`). */
  ping(): Promise<void>
  close(): Promise<void>
}
