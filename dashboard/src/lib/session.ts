const KEY = 'herald.dashboard.adminToken'

/**
 * The admin token lives in sessionStorage only: it survives a reload of this tab and
 * is gone when the tab closes or the user signs out. It is never put in a URL.
 * @example saveToken(token); loadToken() === token
 */
export function loadToken(storage: Storage = sessionStorage): string | null {
  try {
    return storage.getItem(KEY)
  } catch {
    return null
  }
}

export function saveToken(token: string, storage: Storage = sessionStorage): void {
  storage.setItem(KEY, token)
}

export function clearToken(storage: Storage = sessionStorage): void {
  storage.removeItem(KEY)
}
