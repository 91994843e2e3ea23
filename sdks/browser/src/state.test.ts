import { describe, expect, it } from 'vitest'
import { CloseCodes } from '@herald/protocol'
import { closeAction, closeReason } from './state.js'

describe('closeAction', () => {
  it('maps close codes and HTTP answers to what the client does next', () => {
    expect(closeAction({ opened: false, status: CloseCodes.unauthorized, message: '' })).toBe('auth')
    expect(closeAction({ opened: true, status: 401, code: 'unauthorized', message: '' })).toBe('auth')
    expect(closeAction({ opened: true, code: 'token_expired', message: '' })).toBe('auth')
    for (const status of [CloseCodes.forbidden, CloseCodes.appGone, CloseCodes.frameTooLarge])
      expect(closeAction({ opened: true, status, message: '' })).toBe('fatal')
    expect(closeAction({ opened: false, status: 403, code: 'forbidden', message: '' })).toBe('fatal')
    expect(closeAction({ opened: false, status: 400, code: 'bad_request', message: '' })).toBe('fatal')
    for (const status of [CloseCodes.rateLimited, CloseCodes.goingAway, CloseCodes.internal])
      expect(closeAction({ opened: false, status, message: '' })).toBe('retry')
    expect(closeAction({ opened: false, status: 429, code: 'rate_limited', message: '' })).toBe('retry')
    expect(closeAction({ opened: true, status: 1006, message: '' })).toBe('retry')
    // never opened and Herald never answered: blocked or proxied, try the next transport
    expect(closeAction({ opened: false, status: 1006, message: '' })).toBe('fallback')
    expect(closeAction({ opened: false, message: 'timeout' })).toBe('fallback')
  })
})

describe('closeReason', () => {
  it('names the error code when Herald gave one, else the message', () => {
    expect(closeReason({ opened: true, status: CloseCodes.appGone, message: 'app deleted' })).toBe('not_found')
    expect(closeReason({ opened: true, status: CloseCodes.unauthorized, message: 'token expired' })).toBe('unauthorized')
    expect(closeReason({ opened: true, code: 'token_expired', status: CloseCodes.unauthorized, message: 'x' })).toBe('token_expired')
    expect(closeReason({ opened: true, status: 1006, message: 'WebSocket closed (1006)' })).toBe('WebSocket closed (1006)')
  })
})
