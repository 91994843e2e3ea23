import type { MiddlewareHandler } from 'hono'
import { getConnInfo } from '@hono/node-server/conninfo'
import { HeraldError } from '../errors.js'

const WINDOW_MS = 60_000
const MAX_FAILURES = 10

/**
 * Guards the admin API: `Authorization: Bearer <admin token>`. Failed attempts are counted
 * per client address; past 10 a minute, that address gets 429 until the window passes.
 */
export function adminAuth(verify: (token: string) => boolean): MiddlewareHandler {
  const failures = new Map<string, { count: number; since: number }>()
  const sweep = setInterval(() => {
    const now = Date.now()
    for (const [ip, f] of failures) if (now - f.since > WINDOW_MS) failures.delete(ip)
  }, WINDOW_MS)
  sweep.unref()

  return async function adminAuth(c, next) {
    let ip = 'unknown'
    try {
      ip = getConnInfo(c).remote.address ?? 'unknown'
    } catch {
      // Not a Node socket (tests through app.request): every such caller shares one bucket.
    }
    const now = Date.now()
    const f = failures.get(ip)
    if (f && now - f.since <= WINDOW_MS && f.count >= MAX_FAILURES) {
      throw new HeraldError('rate_limited', 'too many failed admin sign-in attempts', Math.ceil((f.since + WINDOW_MS - now) / 1000))
    }
    const header = c.req.header('authorization') ?? ''
    const token = header.toLowerCase().startsWith('bearer ') ? header.slice(7).trim() : ''
    if (!token || !verify(token)) {
      if (!f || now - f.since > WINDOW_MS) failures.set(ip, { count: 1, since: now })
      else f.count++
      throw new HeraldError('unauthorized', token ? 'wrong admin token' : 'admin token required: Authorization: Bearer <token>')
    }
    await next()
  }
}
