import { describe, expect, it } from 'vitest'
import { decodeCursor, encodeCursor, encodeSingleCursor } from './cursor.js'

describe('cursor', () => {
  it('round-trips several channels, whatever their characters', () => {
    const positions = {
      chat: { epoch: 'e_abc', seq: 42 },
      'private-a:b/c=d@e.f;g': { epoch: 'e_-_x', seq: 0 },
    }
    const cursor = encodeCursor(positions)
    expect(cursor).toMatch(/^[A-Za-z0-9_-]+$/)
    expect(decodeCursor(cursor)).toEqual(positions)
  })

  it('gives the same cursor for one channel either way', () => {
    const p = { epoch: 'e_1', seq: 7 }
    expect(encodeSingleCursor('news', p)).toBe(encodeCursor({ news: p }))
  })

  it('rejects malformed cursors instead of guessing', () => {
    for (const bad of ['***', encodeCursor({}) + '!', btoa('e_1 x chat'), btoa('e_1 1 bad,channel'), btoa('nochannel'), 'a'.repeat(20000)]) {
      expect(decodeCursor(bad)).toBeNull()
    }
    expect(decodeCursor('')).toEqual({})
  })
})
