import { CloseCodes, PusherCloseCodes, pusherCloseFor } from '@herald/protocol'
import { describe, expect, it } from 'vitest'
import { MemoryBroker } from '../../engine/broker-memory.js'
import { Hub } from '../../engine/hub.js'
import type { Connection } from '../../transports/transport.js'
import { terminateUser } from './terminate.js'

function connection(appId: string, userId?: string): Connection & { closedWith?: number } {
  const c: Connection & { closedWith?: number } = {
    id: `c_${Math.random()}`,
    appId,
    transport: 'websocket',
    keyId: 'key_1',
    userId,
    close(code) {
      c.closedWith = code
    },
  }
  return c
}

describe('terminateUser', () => {
  it("closes the app's connections signed in as that user, and no other", () => {
    const hub = new Hub(new MemoryBroker())
    const a1 = connection('app_a', 'u1')
    const a2 = connection('app_a', 'u1')
    const other = connection('app_a', 'u2')
    const anonymous = connection('app_a')
    const otherApp = connection('app_b', 'u1')
    for (const c of [a1, a2, other, anonymous, otherApp]) hub.addConnection(c)
    expect(terminateUser(hub, 'app_a', 'u1')).toBe(2)
    expect(a1.closedWith).toBe(CloseCodes.forbidden)
    expect(a2.closedWith).toBe(CloseCodes.forbidden)
    expect([other.closedWith, anonymous.closedWith, otherApp.closedWith]).toEqual([undefined, undefined, undefined])
    // what a Pusher wire sends for it: 4009, which pusher-js does not retry
    expect(pusherCloseFor(CloseCodes.forbidden)).toBe(PusherCloseCodes.unauthorized)
  })
})
