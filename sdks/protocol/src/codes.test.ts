import { describe, expect, it } from 'vitest'
import {
  CloseCodes,
  CloseMeanings,
  closeCodeFor,
  closeMeaning,
  ErrorCodes,
  ErrorRecovery,
  errorCodeForClose,
  errorCodeForStatus,
  HttpStatus,
  isErrorCode,
  isReconnectableClose,
} from './codes.js'
import { HeraldProtocolError } from './errors.js'

describe('close codes', () => {
  it('gives every contract close code a meaning, and nothing else', () => {
    expect(Object.keys(CloseMeanings).map(Number).sort()).toEqual(Object.values(CloseCodes).sort())
    for (const code of Object.values(CloseCodes)) expect(closeMeaning(code)?.meaning).toBeTruthy()
    expect(closeMeaning(1006)).toBeUndefined()
    expect(closeMeaning(4002)).toBeUndefined()
  })

  it('names the reconnect vs terminal behaviour of each close code', () => {
    const recovery = Object.fromEntries(Object.entries(CloseCodes).map(([name, code]) => [name, closeMeaning(code)?.recovery]))
    expect(recovery).toEqual({
      normal: undefined,
      goingAway: 'retry',
      internal: 'retry',
      unauthorized: 'new_token',
      forbidden: 'stop',
      appGone: 'stop',
      rateLimited: 'retry',
      frameTooLarge: 'stop',
    })
  })

  it('maps the 40xx close codes to error codes both ways, consistently with the table', () => {
    for (const code of Object.values(CloseCodes)) {
      const error = closeMeaning(code)?.error
      if (error === undefined) continue
      expect(isReconnectableClose(code)).toBe(false)
      expect(errorCodeForClose(code)).toBe(error)
      expect(closeCodeFor(error)).toBe(code)
      expect(ErrorRecovery[error]).toBe(closeMeaning(code)?.recovery)
    }
    expect(closeCodeFor('token_expired')).toBe(CloseCodes.unauthorized)
    expect(closeCodeFor('internal')).toBe(CloseCodes.internal)
    expect(isReconnectableClose(CloseCodes.goingAway)).toBe(true)
  })
})

describe('error codes', () => {
  it('gives every error code a status and a recovery', () => {
    for (const code of ErrorCodes) {
      expect(HttpStatus[code]).toBeGreaterThanOrEqual(400)
      expect(['new_token', 'stop', 'retry']).toContain(ErrorRecovery[code])
      expect(isErrorCode(code)).toBe(true)
    }
    expect(isErrorCode('network')).toBe(false)
    expect(isErrorCode(401)).toBe(false)
  })

  it('reads an error code from a bare HTTP status (a proxy page, an empty body)', () => {
    for (const code of ['bad_request', 'forbidden', 'not_found', 'too_large', 'rate_limited', 'internal'] as const) {
      expect(errorCodeForStatus(HttpStatus[code])).toBe(code)
    }
    expect(errorCodeForStatus(401)).toBe('unauthorized')
    expect(errorCodeForStatus(502)).toBe('internal')
    expect(errorCodeForStatus(418)).toBe('bad_request')
  })
})

describe('HeraldProtocolError', () => {
  it('carries code, message, status and whether a retry may help', () => {
    const e = new HeraldProtocolError('rate_limited', 'slow down', { status: 429 })
    expect(e).toBeInstanceOf(Error)
    expect({ name: e.name, code: e.code, message: e.message, status: e.status, retryable: e.retryable }).toEqual({
      name: 'HeraldProtocolError',
      code: 'rate_limited',
      message: 'slow down',
      status: 429,
      retryable: true,
    })
    expect(new HeraldProtocolError('forbidden', 'no').retryable).toBe(false)
    expect(new HeraldProtocolError('network', 'down').retryable).toBeUndefined()
    expect(new HeraldProtocolError('network', 'down', { retryable: true }).retryable).toBe(true)
    const cause = new Error('inner')
    expect(new HeraldProtocolError('internal', 'x', { cause }).cause).toBe(cause)
  })
})
