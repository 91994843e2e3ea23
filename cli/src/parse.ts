import type { Capability, Operation } from '@herald/node'
import { usage } from './errors.js'

const OPERATIONS: readonly Operation[] = ['subscribe', 'publish', 'presence', 'history']

/**
 * A JSON argument (message data, settings, info), or a usage error naming what was wrong.
 *
 * @example
 * parseJson('{"text":"hi"}', 'data') // { text: 'hi' }
 */
export function parseJson(text: string, what: string): unknown {
  try {
    return JSON.parse(text)
  } catch (error) {
    throw usage(`${what} is not valid JSON (${(error as Error).message}): ${text.length > 60 ? `${text.slice(0, 60)}…` : text}`)
  }
}

/** A JSON object argument (settings, info). */
export function parseObject(text: string, what: string): Record<string, unknown> {
  const value = parseJson(text, what)
  if (typeof value !== 'object' || value === null || Array.isArray(value)) throw usage(`${what} must be a JSON object`)
  return value as Record<string, unknown>
}

/**
 * `--cap 'chat:*=subscribe,publish'`, repeatable, into a capability; `*` as the operation
 * list grants all four.
 *
 * @example
 * parseCapability(['chat:*=subscribe,publish', 'news=subscribe']) // { 'chat:*': ['subscribe', 'publish'], news: ['subscribe'] }
 */
export function parseCapability(entries: string[]): Capability {
  const cap: Capability = {}
  for (const entry of entries) {
    const at = entry.lastIndexOf('=')
    if (at <= 0) throw usage(`--cap ${entry}: expected <channel pattern>=<operations>, e.g. 'chat:*=subscribe,publish'`)
    const pattern = entry.slice(0, at)
    const list = entry.slice(at + 1).trim()
    const ops = list === '*' ? [...OPERATIONS] : list.split(',').map((op) => op.trim())
    for (const op of ops) {
      if (!(OPERATIONS as readonly string[]).includes(op)) throw usage(`--cap ${entry}: unknown operation "${op}" (one of ${OPERATIONS.join(', ')}, or *)`)
    }
    cap[pattern] = [...new Set([...(cap[pattern] ?? []), ...(ops as Operation[])])]
  }
  return cap
}

const UNITS: Record<string, number> = { s: 1, m: 60, h: 3600, d: 86400 }

/**
 * A duration in seconds: `3600`, `90s`, `15m`, `2h`, `1d`.
 *
 * @example
 * parseDuration('15m') // 900
 */
export function parseDuration(text: string): number {
  const m = /^(\d+)([smhd]?)$/.exec(text.trim())
  const seconds = m ? Number(m[1]) * UNITS[m[2] || 's']! : Number.NaN
  if (!Number.isSafeInteger(seconds) || seconds <= 0) throw usage(`--ttl ${text}: expected a positive number of seconds, or 90s, 15m, 2h, 1d`)
  return seconds
}

/**
 * A whole number option within bounds (commander hands options over as strings).
 *
 * @example
 * parseCount('10', '--limit', 1) // 10
 */
export function parseCount(text: string, flag: string, min = 0): number {
  const n = /^\d+$/.test(text.trim()) ? Number(text) : Number.NaN
  if (!Number.isSafeInteger(n) || n < min) throw usage(`${flag} ${text}: expected a whole number >= ${min}`)
  return n
}
