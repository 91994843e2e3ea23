import type { PresenceMember } from '@herald/client'
import { isPresenceChannel, isValidChannel } from '@herald/protocol'
import { useCallback, useMemo, useSyncExternalStore } from 'react'
import { useHerald } from './context.js'
import { peekChannel, retainChannel, type ChannelError, type PresenceSnapshot } from './shared-channel.js'

/** What {@link usePresence} returns. */
export interface UsePresenceResult {
  /** The members, one per clientId, in the order they joined. */
  members: readonly PresenceMember[]
  /** `true` once the member list was fetched; `false` before, and while re-fetching after a reconnect fails. */
  synced: boolean
  error: ChannelError | null
  /** Fetches the member list again (it is fetched by itself after every reconnect). */
  refresh(): void
}

const NONE: PresenceSnapshot = { members: [], synced: false, error: null }

/**
 * Joins a `presence-*` channel while the component is mounted (as the token's `sub`) and
 * returns its members as they change: the list fetched after each (re)subscribe, then every
 * join and leave. Shares the channel's subscription with `useChannel` on the same name.
 *
 * @example
 * const { members } = usePresence('presence-room')
 * return <ul>{members.map((m) => <li key={m.clientId}>{m.clientId}</li>)}</ul>
 */
export function usePresence(name: string | null): UsePresenceResult {
  const client = useHerald()
  const invalid = name !== null && !(isValidChannel(name) && isPresenceChannel(name))
  const subscribe = useCallback(
    (notify: () => void) => {
      if (name === null || invalid) return () => {}
      const entry = retainChannel(client, name, { limit: 0 })
      const offs = [entry.watch(notify), entry.watchPresence()]
      return () => {
        for (const off of offs) off()
        entry.release()
      }
    },
    [client, name, invalid],
  )
  const snapshot = useSyncExternalStore(
    subscribe,
    () => (name === null ? NONE : (peekChannel(client, name)?.presence ?? NONE)),
    () => NONE,
  )
  const refresh = useCallback(() => {
    if (name !== null) peekChannel(client, name)?.refreshMembers()
  }, [client, name])
  return useMemo(
    () => (invalid ? { ...NONE, error: { code: 'bad_request', message: `not a presence channel: ${name}` }, refresh } : { ...snapshot, refresh }),
    [invalid, name, snapshot, refresh],
  )
}
