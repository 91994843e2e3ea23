import type { PresenceEvent, PresenceMember } from '@herald/protocol'

/** Where presence changes go: the node's hub (it forwards them to the channel's local subscribers). */
export interface PresenceHandler {
  onPresence(appId: string, event: PresenceEvent): void
}

/**
 * Who is on each `presence-*` channel, kept apart from pub/sub (centrifuge's Broker /
 * PresenceManager split). Drivers: `presence-memory.ts` (one process), `presence-redis.ts`
 * (many nodes; entries of a dead node expire).
 *
 * Rules every driver keeps: members are per user (`clientId`) across connections; `join` is
 * emitted on a clientId's first connection on the channel, `leave` on its last (on every node
 * subscribed to the channel); a repeated `add` of a connection is one, and the same connection
 * under a new clientId is a `leave` then a `join`.
 */
export interface PresenceManager {
  readonly driver: string
  start(handler: PresenceHandler): Promise<void>
  /** Adds a connection's presence; emits `join` when it is the clientId's first connection. */
  add(appId: string, channel: string, connectionId: string, member: PresenceMember): Promise<void>
  /** Removes a connection's presence; emits `leave` when it was the clientId's last connection. */
  remove(appId: string, channel: string, connectionId: string): Promise<void>
  /** One entry per clientId. */
  members(appId: string, channel: string): Promise<PresenceMember[]>
  /** Drops every presence entry of the app. */
  removeApp(appId: string): Promise<void>
  close(): Promise<void>
}
