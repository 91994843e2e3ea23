import type { PresenceMember } from '@herald/protocol'
import type { PresenceHandler, PresenceManager } from './presence.js'
import { PresenceSet } from './presence-set.js'

/**
 * Presence in one process: per app and channel a {@link PresenceSet}; join and leave go to the
 * handler synchronously, once the state is updated.
 *
 * @example
 * const presence = new MemoryPresence()
 * await presence.start(hub)
 * await presence.add('app_1', 'presence-room', 'c_1', { clientId: 'u1' })
 */
export class MemoryPresence implements PresenceManager {
  readonly driver = 'memory'
  private handler: PresenceHandler | null = null
  private readonly apps = new Map<string, Map<string, PresenceSet>>()

  async start(handler: PresenceHandler): Promise<void> {
    this.handler = handler
  }

  async add(appId: string, channel: string, connectionId: string, member: PresenceMember): Promise<void> {
    let channels = this.apps.get(appId)
    if (!channels) {
      channels = new Map()
      this.apps.set(appId, channels)
    }
    let set = channels.get(channel)
    if (!set) {
      set = new PresenceSet()
      channels.set(channel, set)
    }
    const { join, leave } = set.add(connectionId, member)
    if (leave) this.handler?.onPresence(appId, { channel, action: 'leave', member: leave })
    if (join) this.handler?.onPresence(appId, { channel, action: 'join', member: join })
  }

  async remove(appId: string, channel: string, connectionId: string): Promise<void> {
    const channels = this.apps.get(appId)
    const set = channels?.get(channel)
    if (!channels || !set) return
    const left = set.remove(connectionId)
    if (set.size === 0) {
      channels.delete(channel)
      if (channels.size === 0) this.apps.delete(appId)
    }
    if (left) this.handler?.onPresence(appId, { channel, action: 'leave', member: left })
  }

  async members(appId: string, channel: string): Promise<PresenceMember[]> {
    return this.apps.get(appId)?.get(channel)?.members() ?? []
  }

  /** Whether anyone is present on the channel (the memory broker keeps such a channel's history). */
  has(appId: string, channel: string): boolean {
    return (this.apps.get(appId)?.get(channel)?.size ?? 0) > 0
  }

  async removeApp(appId: string): Promise<void> {
    this.apps.delete(appId)
  }

  async close(): Promise<void> {
    this.handler = null
  }
}
