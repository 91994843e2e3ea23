import { CloseCodes, PusherCloseCodes, pusherCloseFor } from '@herald/protocol'
import { describe, expect, it } from 'vitest'
import { MemoryBroker } from '../../engine/broker-memory.js'
import { Hub, type HubSession } from '../../engine/hub.js'
import { terminateUser } from './terminate.js'

type FakeSession = HubSession & { closedWith?: number }

function session(appId: string, userId?: string): FakeSession {
  const s: FakeSession = {
    id: `${Math.floor(Math.random() * 1e9)}.1`,
    appId,
    transport: 'pusher-ws',
    keyId: 'key_1',
    userId,
    close(code: number) {
      s.closedWith = code
    },
  }
  return s
}

describe('terminateUser', () => {
  it("closes the app's sessions signed in as that user, whatever their wire, and no other", () => {
    const hub = new Hub(new MemoryBroker())
    const a1 = session('app_a', 'u1')
    const a2 = { ...session('app_a', 'u1'), transport: 'pusher-xhr' }
    const other = session('app_a', 'u2')
    const anonymous = session('app_a')
    const otherApp = session('app_b', 'u1')
    for (const s of [a1, a2, other, anonymous, otherApp]) hub.add(s)
    expect(terminateUser(hub, 'app_a', 'u1')).toBe(2)
    expect(a1.closedWith).toBe(CloseCodes.forbidden)
    expect([other.closedWith, anonymous.closedWith, otherApp.closedWith]).toEqual([undefined, undefined, undefined])
    // what a Pusher wire sends for it: 4009, which pusher-js does not retry
    expect(pusherCloseFor(CloseCodes.forbidden)).toBe(PusherCloseCodes.unauthorized)
  })
})
