import { useCallback, useSyncExternalStore } from 'react'

export const TABS = ['stats', 'keys', 'settings', 'webhooks', 'debug', 'quickstart'] as const
export type Tab = (typeof TABS)[number]

export type Route = { page: 'apps' } | { page: 'app'; appId: string; tab: Tab } | { page: 'missing'; path: string }

/** `/dashboard` (Vite's base without the trailing slash). */
const base = () => import.meta.env.BASE_URL.replace(/\/$/, '')

/**
 * Reads a route from a path under the dashboard's base.
 * @example parseRoute('/dashboard/apps/app_1/keys') // { page: 'app', appId: 'app_1', tab: 'keys' }
 */
export function parseRoute(pathname: string): Route {
  const BASE = base()
  const rest = pathname.startsWith(BASE) ? pathname.slice(BASE.length) : pathname
  const parts = rest.split('/').filter(Boolean).map(decodeURIComponent)
  if (parts.length === 0) return { page: 'apps' }
  if (parts[0] === 'apps' && parts.length === 1) return { page: 'apps' }
  if (parts[0] === 'apps' && parts[1] && parts.length <= 3) {
    const tab = (parts[2] ?? 'stats') as Tab
    if (TABS.includes(tab)) return { page: 'app', appId: parts[1], tab }
  }
  return { page: 'missing', path: pathname }
}

/** The path of a route, for `href`s. */
export function routePath(route: Route): string {
  const BASE = base()
  if (route.page === 'app') return `${BASE}/apps/${encodeURIComponent(route.appId)}${route.tab === 'stats' ? '' : '/' + route.tab}`
  return `${BASE}/`
}

const listeners = new Set<() => void>()
const subscribe = (fn: () => void) => {
  listeners.add(fn)
  window.addEventListener('popstate', fn)
  return () => {
    listeners.delete(fn)
    window.removeEventListener('popstate', fn)
  }
}

/** Moves to a path with the History API and tells every `useRoute` hook. */
export function navigate(path: string, replace = false): void {
  if (replace) history.replaceState(null, '', path)
  else history.pushState(null, '', path)
  for (const fn of listeners) fn()
  window.scrollTo(0, 0)
}

/** The current route; re-renders on navigation and on back/forward. */
export function useRoute(): Route {
  const pathname = useSyncExternalStore(subscribe, () => location.pathname)
  return parseRoute(pathname)
}

/** A click handler for in-app links that keeps modifier-clicks (new tab) working. */
export function useLinkClick(path: string) {
  return useCallback(
    (e: React.MouseEvent<HTMLAnchorElement>) => {
      if (e.button !== 0 || e.metaKey || e.ctrlKey || e.shiftKey || e.altKey) return
      e.preventDefault()
      navigate(path)
    },
    [path],
  )
}
