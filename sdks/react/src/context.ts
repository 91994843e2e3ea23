import type { Client } from '@herald/client'
import { createContext, useContext } from 'react'

/** The client of the nearest {@link HeraldProvider}. */
export const HeraldContext = createContext<Client | null>(null)

/**
 * The Herald client of the nearest `HeraldProvider` (for `publish`, `history`, or anything
 * the hooks do not cover). Throws outside a provider.
 *
 * @example
 * const client = useHerald()
 * await client.publish('chat', { text: 'hi' })
 */
export function useHerald(): Client {
  const client = useContext(HeraldContext)
  if (!client) throw new Error('@herald/react: wrap your components in <HeraldProvider> before using its hooks')
  return client
}
