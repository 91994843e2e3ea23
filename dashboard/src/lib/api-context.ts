import { createContext, useContext } from 'react'
import type { AdminApi } from '../api/admin-api.js'

export interface Session {
  api: AdminApi
  signOut(): void
}

export const SessionContext = createContext<Session | null>(null)

/** The signed-in admin API; only used below the sign-in gate. */
export function useSession(): Session {
  const session = useContext(SessionContext)
  if (!session) throw new Error('useSession outside a signed-in session')
  return session
}
