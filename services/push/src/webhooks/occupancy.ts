/** What an `enter` or `leave` changed, cluster-wide. */
export interface OccupancyChange {
  /** `enter`: the key had no holder anywhere before. `leave`: it has none anywhere now. */
  edge: boolean
  /** Holders of the key over all nodes, after the change. */
  count: number
}

/**
 * Cluster-wide counts of who holds a key (a channel's subscriptions, a user's connections in
 * a presence channel), so that "first anywhere" and "last anywhere" are decided once for the
 * whole cluster, atomically, not per node. Keys are the caller's strings, per app.
 * Drivers: `occupancy-memory.ts` (one process), `occupancy-redis.ts` (a cluster).
 *
 * Guarantees:
 * - Concurrent enters/leaves on any nodes give exactly one `edge` per 0→1 and per 1→0 change.
 * - A node's holdings expire with its heartbeat: when it dies, a sweep on a live node reports
 *   each key it leaves with no holder to `onGone`, exactly once over the cluster.
 * - Calls of one node resolve in the order they were made.
 */
export interface Occupancy {
  /**
   * Starts heartbeats and sweeps. `onGone` gets keys a dead node (or this node's previous run)
   * left with no holder; `onRestored` keys this node held again, with nobody else holding
   * them, after it had been swept as dead (a stall longer than its heartbeat): a new 0→1.
   */
  start(onGone: (appId: string, key: string) => void, onRestored?: (appId: string, key: string, count: number) => void): Promise<void>
  enter(appId: string, key: string): Promise<OccupancyChange>
  leave(appId: string, key: string): Promise<OccupancyChange>
  /** Drops this node's holdings of an app (it was deleted); reports nothing. */
  forgetApp(appId: string): Promise<void>
  stop(): Promise<void>
}
