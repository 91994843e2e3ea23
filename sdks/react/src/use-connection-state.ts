import type { Client, ConnectionState, TransportName } from '@herald/client'
import { useSyncExternalStore } from 'react'
import { useHerald } from './context.js'

/** What {@link useConnectionState} returns. */
export interface ConnectionSnapshot {
  state: ConnectionState
  /** The transport in use while connected, else `null`. */
  transport: TransportName | null
  /** Why the state last changed (`connect`, `reconnect`, `offline`, an error code…); `''` before any change. */
  reason: string
  /** While disconnected with a reconnect scheduled: in how many ms. */
  retryIn?: number
}

interface Store {
  snapshot: ConnectionSnapshot
  listeners: Set<() => void>
}

const stores = new WeakMap<Client, Store>()

/** One `state` listener per client, for as long as the client lives. */
function storeOf(client: Client): Store {
  const known = stores.get(client)
  if (known) return known
  const made: Store = { snapshot: { state: client.state, transport: client.transport, reason: '' }, listeners: new Set() }
  client.on('state', ({ current, reason, retryIn }) => {
    made.snapshot =
      retryIn === undefined ? { state: current, transport: client.transport, reason } : { state: current, transport: client.transport, reason, retryIn }
    for (const l of made.listeners) l()
  })
  stores.set(client, made)
  return made
}

const SERVER: ConnectionSnapshot = { state: 'disconnected', transport: null, reason: '' }

/**
 * The client's connection state, re-rendering on every change.
 *
 * @example
 * const { state, transport } = useConnectionState()
 * return <span>{state}{transport ? ` via ${transport}` : ''}</span>
 */
export function useConnectionState(): ConnectionSnapshot {
  const client = useHerald()
  const store = storeOf(client)
  return useSyncExternalStore(
    (notify) => {
      store.listeners.add(notify)
      return () => store.listeners.delete(notify)
    },
    () => store.snapshot,
    () => SERVER,
  )
}
