import { HeraldError as ClientError } from '@herald/client'
import { HeraldError } from '@herald/node'
import { describe, expect, it } from 'vitest'
import { readCapability } from './commands/subscribe.js'
import { CliError, ExitCode, exitCodeFor, explain } from './errors.js'

describe('errors and exit codes', () => {
  it('gives each kind of contract error its own exit code', () => {
    expect(['network', 'timeout'].map(exitCodeFor)).toEqual([3, 3])
    expect(['unauthorized', 'token_expired'].map(exitCodeFor)).toEqual([4, 4])
    expect(exitCodeFor('not_found')).toBe(5)
    expect(exitCodeFor('forbidden')).toBe(6)
    expect(['bad_request', 'too_large', 'rate_limited', 'limit_exceeded'].map(exitCodeFor)).toEqual([7, 7, 7, 7])
    expect(['internal', 'something else'].map(exitCodeFor)).toEqual([1, 1])
  })

  it('explains any failure in one line: the service named when unreachable, the code when it answered', () => {
    expect(explain(new HeraldError('network', 'network error: fetch failed (ECONNREFUSED)'), 'http://127.0.0.1:1')).toEqual({
      code: ExitCode.unreachable,
      line: 'cannot reach http://127.0.0.1:1: network error: fetch failed (ECONNREFUSED)',
    })
    expect(explain(new HeraldError('not_found', 'no app app_x', { status: 404 }), 'u')).toEqual({ code: 5, line: 'no app app_x (not_found)' })
    expect(explain(new ClientError('forbidden', 'no subscribe\non x'), 'u')).toEqual({ code: 6, line: 'no subscribe on x (forbidden)' })
    expect(explain(new CliError(ExitCode.usage, 'bad\n  input'), 'u')).toEqual({ code: 2, line: 'bad input' })
    expect(explain(new Error('boom'), 'u')).toEqual({ code: 1, line: 'boom' })
  })

  it('subscribe signs tokens that may read only the given channels, and join presence ones', () => {
    expect(readCapability(['chat', 'presence-lobby'])).toEqual({ chat: ['subscribe', 'history'], 'presence-lobby': ['subscribe', 'history', 'presence'] })
  })
})
