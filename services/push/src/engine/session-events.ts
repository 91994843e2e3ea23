import type { PresenceMember } from '@herald/protocol'
import type { ClientSession } from './session.js'

/**
 * What happened to sessions and channels on this node, for features that listen in one place
 * (webhooks, occupancy, audit). Every callback is optional and called synchronously, after the
 * fact; a listener that throws is logged and does not disturb the session.
 *
 * - `opened` / `closed`: a session was admitted (registered in the hub) / is gone, whatever its wire.
 * - `subscribed` / `unsubscribed`: a subscription is live / was dropped (also on close).
 * - `joined` / `left`: this session entered / left a presence channel as `member` (per
 *   connection; the cluster-wide join/leave of a user is the presence manager's event).
 * - `occupied` / `vacated`: the channel got its first local subscriber / lost its last one on
 *   this node (cluster-wide occupancy is built on these).
 */
export interface SessionListener {
  opened?(session: ClientSession): void
  subscribed?(session: ClientSession, channel: string): void
  unsubscribed?(session: ClientSession, channel: string): void
  joined?(session: ClientSession, channel: string, member: PresenceMember): void
  left?(session: ClientSession, channel: string, member: PresenceMember): void
  closed?(session: ClientSession, code: number, reason: string): void
  occupied?(appId: string, channel: string): void
  vacated?(appId: string, channel: string): void
}

type Events = { [K in keyof SessionListener]-?: Parameters<NonNullable<SessionListener[K]>> }

/** The listeners of one node; `emit` calls each in order and logs (never rethrows) what they throw. */
export class SessionEvents {
  private readonly listeners = new Set<SessionListener>()

  constructor(private readonly onError: (err: unknown, event: string) => void) {}

  /** Adds a listener; returns the function that removes it. */
  listen(listener: SessionListener): () => void {
    this.listeners.add(listener)
    return () => this.listeners.delete(listener)
  }

  emit<K extends keyof Events>(event: K, ...args: Events[K]): void {
    if (this.listeners.size === 0) return
    for (const l of this.listeners) {
      const fn = l[event] as ((...a: Events[K]) => void) | undefined
      if (!fn) continue
      try {
        fn.apply(l, args)
      } catch (err) {
        this.onError(err, event)
      }
    }
  }
}
