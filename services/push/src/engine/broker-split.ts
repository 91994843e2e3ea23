import type { Broker } from './broker.js'
import type { ClusterState } from './cluster-state.js'
import type { PresenceManager } from './presence.js'

/** Presence and cluster state served by a broker that still carries them (until every driver is split). */
export function presenceOfBroker(broker: Broker): PresenceManager {
  return {
    driver: broker.driver,
    start: async () => {},
    add: (appId, channel, connectionId, member) => broker.addPresence(appId, channel, connectionId, member),
    remove: (appId, channel, connectionId) => broker.removePresence(appId, channel, connectionId),
    members: (appId, channel) => broker.members(appId, channel),
    removeApp: async () => {},
    close: async () => {},
  }
}

export function clusterStateOfBroker(broker: Broker): ClusterState {
  return { driver: broker.driver, start: async () => {}, appState: (appId) => broker.appState(appId), close: async () => {} }
}
