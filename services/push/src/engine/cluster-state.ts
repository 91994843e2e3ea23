import type { AppClusterState, NodeState } from './broker.js'

/**
 * Counters and channel subscriptions over every node: each node reports its local state
 * (`localState`), any node reads an app's total. Drivers: `cluster-state-memory.ts` (one
 * process: the local state is the whole), `cluster-state-redis.ts` (snapshots with a TTL).
 */
export interface ClusterState {
  readonly driver: string
  start(localState: () => NodeState): Promise<void>
  /** Connections, channels with their subscriber counts, and message counters over all nodes. */
  appState(appId: string): Promise<AppClusterState>
  close(): Promise<void>
}
