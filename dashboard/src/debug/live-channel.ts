import type { Message, PresenceMember } from '@herald/client'
import { useChannel, useConnectionState, usePresence } from '@herald/react'
import { isPresenceChannel } from '@herald/protocol'
import { useMemo, useState } from 'react'

/** How many messages the console keeps. */
export const MAX_LOG = 200

/** What the debug console shows of one live channel. */
export interface LiveChannelView {
  /** One line on the connection and the subscription. */
  status: string
  /** Connected, and the server confirmed the subscription. */
  subscribed: boolean
  /** Newest first, at most {@link MAX_LOG}, minus those cleared. */
  log: readonly Message[]
  clear(): void
  /** `null` unless the channel is a presence channel. */
  members: readonly PresenceMember[] | null
  refreshMembers(): void
  /** The connection failed, the subscribe was refused, or the member list could not be read. */
  error: Error | null
}

/**
 * The console's view of one channel, through `@herald/react` (inside a `HeraldProvider`):
 * its messages, presence members (the console joins as its token's `sub`) and a status line.
 * @example const live = useLiveChannel('chat'); live.log.map(...)
 */
export function useLiveChannel(channel: string): LiveChannelView {
  const presence = isPresenceChannel(channel)
  const { state, transport, reason } = useConnectionState()
  const sub = useChannel(channel, undefined, { limit: MAX_LOG })
  const who = usePresence(presence ? channel : null)
  // Clearing hides what arrived up to now; the newest message at that time marks the spot
  // (if it has scrolled out of the kept messages, everything kept is newer).
  const [clearedAt, setClearedAt] = useState<Message | null>(null)
  const all = sub.messages as readonly Message[]
  const log = useMemo(() => all.slice(clearedAt ? all.indexOf(clearedAt) + 1 : 0).reverse(), [all, clearedAt])

  const subscribed = state === 'connected' && sub.state === 'subscribed'
  const status = subscribed
    ? `Subscribed to ${channel}`
    : state === 'connected'
      ? `Connected${transport ? ` (${transport})` : ''}, subscribing to ${channel}…`
      : state === 'connecting'
        ? `Connecting to ${channel}…`
        : `Connection ${state}${reason ? `: ${reason}` : ''}`

  let error: Error | null = null
  if (state === 'failed') {
    const hint = /forbidden|origin/i.test(reason) ? ` If the app limits its allowed origins, add ${location.origin} to them.` : ''
    error = new Error(`The connection failed (${reason}).${hint}`)
  } else if (sub.error) error = new Error(`${sub.error.code}: ${sub.error.message}`)
  else if (presence && who.error) error = new Error(`Presence members: ${who.error.message}`)

  return {
    status,
    subscribed,
    log,
    clear: () => setClearedAt(all.at(-1) ?? null),
    members: presence ? who.members : null,
    refreshMembers: who.refresh,
    error,
  }
}
