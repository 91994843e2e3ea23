import { describe, expect, it } from 'vitest'
import { CliError, ExitCode } from './errors.js'
import { parseCapability, parseCount, parseDuration, parseJson, parseObject } from './parse.js'

function usageError(fn: () => unknown): string {
  try {
    fn()
  } catch (e) {
    expect(e).toBeInstanceOf(CliError)
    expect((e as CliError).code).toBe(ExitCode.usage)
    return (e as CliError).message
  }
  throw new Error('expected a usage error')
}

describe('command-line values', () => {
  it('parses JSON data of any type, and names malformed JSON', () => {
    expect(parseJson('{"text":"hi"}', 'data')).toEqual({ text: 'hi' })
    expect(parseJson('"plain"', 'data')).toBe('plain')
    expect(parseJson('42', 'data')).toBe(42)
    expect(usageError(() => parseJson('{text:hi}', 'data'))).toMatch(/^data is not valid JSON .*: \{text:hi\}$/)
    expect(usageError(() => parseObject('[1]', '--settings'))).toBe('--settings must be a JSON object')
  })

  it('parses repeated --cap flags into one capability', () => {
    expect(parseCapability(['chat:*=subscribe,publish', 'news=subscribe', 'chat:*=history'])).toEqual({
      'chat:*': ['subscribe', 'publish', 'history'],
      news: ['subscribe'],
    })
    expect(parseCapability(['a=b=*'])).toEqual({ 'a=b': ['subscribe', 'publish', 'presence', 'history'] })
    expect(usageError(() => parseCapability(['chat']))).toMatch(/expected <channel pattern>=<operations>/)
    expect(usageError(() => parseCapability(['chat=read']))).toMatch(/unknown operation "read"/)
  })

  it('parses durations and counts', () => {
    expect([parseDuration('3600'), parseDuration('90s'), parseDuration('15m'), parseDuration('2h'), parseDuration('1d')]).toEqual([3600, 90, 900, 7200, 86400])
    for (const bad of ['0', '-5', '1w', 'soon', '']) usageError(() => parseDuration(bad))
    expect(parseCount('10', '--limit', 1)).toBe(10)
    expect(usageError(() => parseCount('0', '--limit', 1))).toBe('--limit 0: expected a whole number >= 1')
    usageError(() => parseCount('1.5', '--rewind'))
  })
})
