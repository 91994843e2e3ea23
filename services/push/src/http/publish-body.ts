import type { RawMessage } from '../engine/publisher.js'

/** A publish body as {@link PublishBodySchema} accepts it (one channel, several channels, or a batch). */
export interface PublishBody {
  channel?: string
  channels?: string[]
  messages?: RawMessage[]
  name?: string
  data?: unknown
  id?: string
}

const MAX_ITEMS = 100

/** Content types the fast checks take as they are; any other goes through the schema's own media-type check. */
export const JSON_TYPES: ReadonlySet<string | undefined> = new Set([
  'application/json',
  'application/json; charset=utf-8',
  'application/json;charset=utf-8',
  'application/json; charset=UTF-8',
])

/** Own keys of `o` are all in `allowed` (zod's `.strict()`). */
function onlyKeys(o: Record<string, unknown>, allowed: (k: string) => boolean): boolean {
  // JSON.parse makes plain objects: every key is an own enumerable one (an own `__proto__` too).
  for (const k in o) if (!allowed(k)) return false
  return true
}

const isPlainObject = (v: unknown): v is Record<string, unknown> =>
  typeof v === 'object' && v !== null && !Array.isArray(v) && Object.getPrototypeOf(v) === Object.prototype
const optionalString = (v: unknown) => v === undefined || typeof v === 'string'
const fieldOfMany = (k: string) => k === 'channels' || k === 'name' || k === 'data' || k === 'id'
const fieldOfOne = (k: string) => k === 'channel' || k === 'name' || k === 'data' || k === 'id'

function isOne(v: unknown): v is RawMessage {
  return isPlainObject(v) && typeof v.channel === 'string' && 'data' in v && optionalString(v.name) && optionalString(v.id) && onlyKeys(v, fieldOfOne)
}

/**
 * The publish body check compiled by hand, for the hot path: true exactly for bodies that
 * `PublishBodySchema` (the zod union that also documents the route) accepts unchanged. False
 * means "let the schema decide": the route then runs the zod validator, so every refusal keeps
 * the schema's own error answer. It must never accept what the schema refuses
 * (`publish-body.test.ts` checks both against the same inputs).
 */
export function isPublishBody(v: unknown): v is PublishBody {
  if (!isPlainObject(v)) return false
  if (v.messages !== undefined) {
    const m = v.messages
    if (!Array.isArray(m) || m.length < 1 || m.length > MAX_ITEMS || !onlyKeys(v, (k) => k === 'messages')) return false
    for (const item of m) if (!isOne(item)) return false
    return true
  }
  if (v.channels !== undefined) {
    const c = v.channels
    if (
      !Array.isArray(c) ||
      c.length < 1 ||
      c.length > MAX_ITEMS ||
      !('data' in v) ||
      !optionalString(v.name) ||
      !optionalString(v.id) ||
      !onlyKeys(v, fieldOfMany)
    )
      return false
    for (const ch of c) if (typeof ch !== 'string') return false
    return true
  }
  return isOne(v)
}
