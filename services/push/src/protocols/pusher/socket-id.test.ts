import { describe, expect, it } from 'vitest'
import { newSocketId, SOCKET_ID } from './socket-id.js'

describe('newSocketId', () => {
  it('matches Pusher socket id grammar and does not repeat', () => {
    const ids = new Set<string>()
    for (let i = 0; i < 2000; i++) {
      const id = newSocketId()
      expect(id).toMatch(SOCKET_ID)
      ids.add(id)
    }
    expect(ids.size).toBe(2000)
  })
})
