import { CloseCodes } from '@herald/protocol'
import type { Hub } from '../../engine/hub.js'

/**
 * `terminate_connections` on one node: closes every connection of the app signed in as the
 * user. Called for the `user.terminate` control event, which every node receives. The close
 * is `forbidden`, which a Pusher wire sends as 4009 (pusher-js does not reconnect by itself).
 */
export function terminateUser(hub: Hub, appId: string, userId: string): number {
  return hub.closeConnections(appId, CloseCodes.forbidden, 'connections of this user terminated by the app', (c) => c.userId === userId)
}
