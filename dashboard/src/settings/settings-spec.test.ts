import { describe, expect, it } from 'vitest'
import { changedSettings, DEFAULT_SETTINGS, toDraft, validateSettings } from './settings-spec.js'

describe('settings form validation', () => {
  it('round-trips the contract defaults', () => {
    expect(DEFAULT_SETTINGS).toEqual({
      anonymousSubscribe: true,
      maxMessageBytes: 65536,
      historySize: 100,
      historyTtlSeconds: 3600,
      maxConnections: 10000,
      publishRatePerSecond: 1000,
      maxTokenTtlSeconds: 86400,
      allowedOrigins: ['*'],
      clientEvents: false,
    })
    expect(validateSettings(toDraft(DEFAULT_SETTINGS))).toEqual({ ok: true, settings: DEFAULT_SETTINGS })
  })

  it('rejects non-integers and out-of-range numbers with a message per field', () => {
    const draft = { ...toDraft(DEFAULT_SETTINGS), historySize: '1.5', maxMessageBytes: '10', maxConnections: 'lots' }
    const result = validateSettings(draft)
    expect(result.ok).toBe(false)
    if (result.ok) return
    expect(result.errors.historySize).toMatch(/whole number/)
    expect(result.errors.maxMessageBytes).toMatch(/between 64 and 1,048,576/)
    expect(result.errors.maxConnections).toMatch(/whole number/)
    expect(result.errors.publishRatePerSecond).toBeUndefined()
  })

  it('parses origins one per line and rejects ones that are not origins', () => {
    const ok = validateSettings({ ...toDraft(DEFAULT_SETTINGS), allowedOrigins: 'https://a.example\n\n http://b.example:8080 ' })
    expect(ok).toMatchObject({ ok: true, settings: { allowedOrigins: ['https://a.example', 'http://b.example:8080'] } })
    const bad = validateSettings({ ...toDraft(DEFAULT_SETTINGS), allowedOrigins: 'https://a.example/path' })
    expect(bad.ok).toBe(false)
  })

  it('sends only what changed', () => {
    expect(changedSettings(DEFAULT_SETTINGS, { ...DEFAULT_SETTINGS, historySize: 5, allowedOrigins: ['*'] })).toEqual({ historySize: 5 })
  })
})
