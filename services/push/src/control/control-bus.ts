/** A change to the control plane that every node must apply. */
export type ControlEvent =
  | { type: 'app.updated'; appId: string }
  | { type: 'app.deleted'; appId: string }
  | { type: 'key.created'; appId: string; keyId: string }
  | { type: 'key.revoked'; appId: string; keyId: string }
  /** Close every connection of the app signed in as this Pusher user (`terminate_connections`). */
  | { type: 'user.terminate'; appId: string; userId: string }

/**
 * Carries control-plane invalidations between nodes.
 * Drivers: `control-bus-memory.ts` (one process), `control-bus-redis.ts` (all nodes sharing a Redis).
 * `emit` delivers to the local node as well, exactly once.
 */
export interface ControlBus {
  start(onEvent: (event: ControlEvent) => void): Promise<void>
  emit(event: ControlEvent): Promise<void>
  close(): Promise<void>
}
