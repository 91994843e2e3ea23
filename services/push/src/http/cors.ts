import type { Context, MiddlewareHandler, Next } from 'hono'
import type { App } from '../apps/types.js'

/**
 * Whether a browser origin may use an app, per its `allowedOrigins` (`*` allows all).
 * No Origin header: not a browser, allowed. The service's own origin (the dashboard, the
 * examples) is always allowed: `host` is the request's Host header.
 */
export function originAllowed(allowed: string[], origin: string | undefined, host?: string): boolean {
  if (!origin) return true
  if (host && (origin === `http://${host}` || origin === `https://${host}`)) return true
  return allowed.includes('*') || allowed.includes(origin)
}

/**
 * CORS for the public API, from the app's `allowedOrigins`. Answers preflights itself.
 * A disallowed origin gets no CORS headers (the browser blocks the response).
 */
export function appCors(appOf: (appId: string) => Promise<App | undefined>): MiddlewareHandler {
  return function appCors(c, next) {
    const origin = c.req.header('origin')
    // Not a browser request: nothing to add, no promise of our own on the publish path.
    if (!origin && c.req.method !== 'OPTIONS') return next()
    return withCors(c, next, origin)
  }

  async function withCors(c: Context, next: Next, origin: string | undefined): Promise<Response | undefined> {
    const appId = c.req.param('appId')
    const app = origin && appId ? await appOf(appId) : null
    const allow = app && originAllowed(app.settings.allowedOrigins, origin, c.req.header('host')) ? origin : null
    if (c.req.method === 'OPTIONS' && origin) {
      const headers: Record<string, string> = { Vary: 'Origin' }
      if (allow) {
        headers['Access-Control-Allow-Origin'] = allow
        headers['Access-Control-Allow-Methods'] = 'GET, POST, OPTIONS'
        headers['Access-Control-Allow-Headers'] = 'Authorization, Content-Type, Last-Event-ID'
        headers['Access-Control-Max-Age'] = '600'
      }
      return c.body(null, 204, headers)
    }
    await next()
    if (allow) {
      c.res.headers.set('Access-Control-Allow-Origin', allow)
      c.res.headers.set('Access-Control-Expose-Headers', 'Retry-After')
      c.res.headers.append('Vary', 'Origin')
    }
  }
}
