import { describe, expect, it } from 'vitest'
import { nestedDeeperThan } from './json-depth.js'

describe('nestedDeeperThan', () => {
  it('counts arrays and objects, not scalars', () => {
    expect(nestedDeeperThan(1, 0)).toBe(false)
    expect(nestedDeeperThan('x', 0)).toBe(false)
    expect(nestedDeeperThan(null, 0)).toBe(false)
    expect(nestedDeeperThan([], 0)).toBe(true)
    expect(nestedDeeperThan([], 1)).toBe(false)
    expect(nestedDeeperThan([[1]], 1)).toBe(true)
    expect(nestedDeeperThan({ a: [1] }, 2)).toBe(false)
    expect(nestedDeeperThan({ a: [{ b: 1 }] }, 2)).toBe(true)
    expect(nestedDeeperThan([1, [2, [3]], { x: 1 }], 3)).toBe(false)
  })

  it('handles nesting that would overflow JSON.stringify', () => {
    const depth = 200_000
    const value = JSON.parse('['.repeat(depth) + ']'.repeat(depth))
    expect(() => JSON.stringify(value)).toThrow(RangeError)
    expect(nestedDeeperThan(value, 64)).toBe(true)
    expect(nestedDeeperThan(value, depth)).toBe(false)
  })
})
