import { clusterStateContract } from './cluster-state.contract.js'
import { MemoryClusterState } from './cluster-state-memory.js'

clusterStateContract('memory', {
  shared: false,
  async start(localState) {
    const state = new MemoryClusterState()
    await state.start(localState)
    return state
  },
})
