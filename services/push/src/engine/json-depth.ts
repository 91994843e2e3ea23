/** Deepest nesting of arrays and objects a published `data` value may have. */
export const MAX_DATA_DEPTH = 64

/**
 * Whether a parsed JSON value nests arrays/objects deeper than `max` levels. Iterative, so
 * it is safe on any input (JSON.parse accepts nesting that JSON.stringify then overflows the
 * stack on); stops as soon as the answer is known.
 *
 * @example
 * nestedDeeperThan([[1]], 1) // true
 * nestedDeeperThan({ a: [1] }, 2) // false
 */
export function nestedDeeperThan(value: unknown, max: number): boolean {
  const stack: Array<[unknown, number]> = [[value, 0]]
  while (stack.length > 0) {
    const [v, depth] = stack.pop()!
    if (typeof v !== 'object' || v === null) continue
    if (depth + 1 > max) return true
    for (const child of Array.isArray(v) ? v : Object.values(v)) {
      if (typeof child === 'object' && child !== null) stack.push([child, depth + 1])
    }
  }
  return false
}
