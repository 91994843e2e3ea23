import { describe, expect, it } from 'vitest'
import { CloseCodes } from './codes.js'
import { PusherCloseCodes, pusherCloseAction, pusherCloseFor } from './pusher.js'

describe('Pusher close codes', () => {
  it('have pusher-js reconnect meaning by range', () => {
    expect(pusherCloseAction(PusherCloseCodes.tlsOnly)).toBe('tls_only')
    expect(pusherCloseAction(PusherCloseCodes.appNotFound)).toBe('refused')
    expect(pusherCloseAction(PusherCloseCodes.unauthorized)).toBe('refused')
    expect(pusherCloseAction(PusherCloseCodes.overCapacity)).toBe('backoff')
    expect(pusherCloseAction(PusherCloseCodes.reconnect)).toBe('retry')
    expect(pusherCloseAction(PusherCloseCodes.inactivity)).toBe('retry')
    expect(pusherCloseAction(1003)).toBe('backoff')
    expect(pusherCloseAction(1006)).toBe('reconnect')
    expect(pusherCloseAction(4399)).toBe('refused')
  })

  it('map Herald close codes so pusher-js stops on refused credentials and reconnects on shutdown', () => {
    expect(pusherCloseAction(pusherCloseFor(CloseCodes.unauthorized))).toBe('refused')
    expect(pusherCloseAction(pusherCloseFor(CloseCodes.forbidden))).toBe('refused')
    expect(pusherCloseAction(pusherCloseFor(CloseCodes.appGone))).toBe('refused')
    expect(pusherCloseAction(pusherCloseFor(CloseCodes.rateLimited))).toBe('backoff')
    expect(pusherCloseAction(pusherCloseFor(CloseCodes.frameTooLarge))).toBe('backoff')
    expect(pusherCloseAction(pusherCloseFor(CloseCodes.internal))).toBe('backoff')
    expect(pusherCloseAction(pusherCloseFor(CloseCodes.goingAway))).toBe('retry')
    expect(pusherCloseFor(CloseCodes.normal)).toBe(CloseCodes.normal)
  })
})
