import { afterEach, describe, expect, it } from 'vitest'
import type { NodeState } from './broker.js'
import { newTestAppId, waitFor } from './broker.contract.js'
import type { ClusterState } from './cluster-state.js'

/** How the conformance suite gets cluster states of one driver. */
export interface ClusterStateFactory {
  /** A started cluster state reporting `localState`; with a `shared` driver every call is one more node. */
  start(localState: () => NodeState): Promise<ClusterState>
  shared: boolean
}

/** The behaviour every {@link ClusterState} driver must show, run once per driver. */
export function clusterStateContract(name: string, factory: ClusterStateFactory): void {
  describe(`ClusterState contract: ${name}`, () => {
    const started: ClusterState[] = []
    afterEach(async () => {
      await Promise.all(started.splice(0).map((s) => s.close()))
    })

    async function node(localState: () => NodeState): Promise<{ state: ClusterState }> {
      const state = await factory.start(localState)
      started.push(state)
      return { state }
    }

    it('reports app state from every node’s local counters', async () => {
      const app = newTestAppId()
      const state = (connections: number): NodeState => ({
        [app]: { connections, channels: { chat: connections, [`only-${connections}`]: 1 }, published: 10, delivered: 20 },
      })
      const a = await node(() => state(2))
      if (factory.shared) {
        await node(() => state(3))
        await waitFor(async () => expect((await a.state.appState(app)).nodes).toBe(2))
        expect(await a.state.appState(app)).toEqual({
          connections: 5,
          channels: { chat: 5, 'only-2': 1, 'only-3': 1 },
          published: 20,
          delivered: 40,
          nodes: 2,
        })
      } else {
        expect(await a.state.appState(app)).toEqual({
          connections: 2,
          channels: { chat: 2, 'only-2': 1 },
          published: 10,
          delivered: 20,
          nodes: 1,
        })
      }
      const empty = await a.state.appState(newTestAppId())
      expect(empty).toMatchObject({ connections: 0, channels: {}, published: 0, delivered: 0 })
    })
  })
}
