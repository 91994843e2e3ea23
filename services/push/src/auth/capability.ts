import type { Capability, Operation } from '../apps/types.js'
import { Operations } from '../apps/types.js'

/** A capability compiled for fast checks: each pattern becomes a RegExp once. */
export interface CompiledCapability {
  allows(channel: string, op: Operation): boolean
}

const cache = new Map<string, RegExp>()

function patternToRegExp(pattern: string): RegExp {
  let re = cache.get(pattern)
  if (!re) {
    const body = pattern
      .split('*')
      .map((part) => part.replace(/[.*+?^${}()|[\]\\]/g, '\\$&'))
      .join('.*')
    re = new RegExp(`^${body}$`)
    if (cache.size > 10_000) cache.clear()
    cache.set(pattern, re)
  }
  return re
}

/**
 * Compiles `{"chat:*": ["subscribe"]}`; `*` matches any run of characters.
 *
 * @example
 * compileCapability({ 'chat:*': ['subscribe'] }).allows('chat:1', 'subscribe') // true
 */
export function compileCapability(cap: Capability): CompiledCapability {
  const entries = Object.entries(cap).map(([pattern, ops]) => ({ re: patternToRegExp(pattern), ops: new Set(ops) }))
  return {
    allows(channel, op) {
      for (const e of entries) if (e.ops.has(op) && e.re.test(channel)) return true
      return false
    },
  }
}

/** Both capabilities must allow: a token never gets more than its key. */
export function intersect(a: CompiledCapability, b: CompiledCapability): CompiledCapability {
  return { allows: (channel, op) => a.allows(channel, op) && b.allows(channel, op) }
}

const MAX_PATTERNS = 100

/** Validates an untrusted `cap` claim or key capability; returns an error message or null. */
export function capabilityError(value: unknown): string | null {
  if (typeof value !== 'object' || value === null || Array.isArray(value)) return 'cap must be an object'
  const entries = Object.entries(value)
  if (entries.length > MAX_PATTERNS) return `cap has more than ${MAX_PATTERNS} patterns`
  for (const [pattern, ops] of entries) {
    if (pattern.length === 0 || pattern.length > 164 || !/^[A-Za-z0-9_\-=@.;:/*]+$/.test(pattern)) return `bad channel pattern "${pattern.slice(0, 40)}"`
    if (!Array.isArray(ops) || ops.some((op) => !(Operations as readonly string[]).includes(op)))
      return `operations of "${pattern}" must be among ${Operations.join(', ')}`
  }
  return null
}
