import type { AppClusterState, NodeState } from './broker.js'
import type { ClusterState } from './cluster-state.js'

/** Cluster state of a single node: the local state is the whole. */
export class MemoryClusterState implements ClusterState {
  readonly driver = 'memory'
  private localState: () => NodeState = () => ({})

  async start(localState: () => NodeState): Promise<void> {
    this.localState = localState
  }

  async appState(appId: string): Promise<AppClusterState> {
    const local = this.localState()[appId]
    return {
      connections: local?.connections ?? 0,
      channels: { ...(local?.channels ?? {}) },
      published: local?.published ?? 0,
      delivered: local?.delivered ?? 0,
      nodes: 1,
    }
  }

  async close(): Promise<void> {}
}
