import { CloseCodes } from '@herald/protocol'
import type { Engine } from '../../engine/engine.js'

/**
 * `terminate_connections` on one node: closes every session of the app signed in as the user
 * (`pusher:signin`), whatever its wire. Called for the `user.terminate` control event, which every
 * node receives. The close is `forbidden`, which a Pusher wire sends as 4009 (`pusherCloseFor`):
 * pusher-js does not reconnect by itself.
 */
export function terminateUser(engine: Pick<Engine, 'closeSessions'>, appId: string, userId: string): number {
  return engine.closeSessions(appId, CloseCodes.forbidden, 'connections of this user terminated by the app', (s) => s.userId === userId)
}
