import { describe, expect, it } from 'vitest'
import { loadConfig } from './config.js'

describe('loadConfig', () => {
  it('defaults to durable SQLite history, synchronous=normal, and a 9 s presence lease (a dead node’s members leave within 12 s)', () => {
    const config = loadConfig({})
    expect(config.history).toBe('sqlite')
    expect(config.sqliteSynchronous).toBe('normal')
    expect(config.presenceTtlSeconds).toBe(9)
    expect(config.presenceTtlSeconds + config.presenceTtlSeconds / 3).toBeLessThan(15)
  })

  it('takes HERALD_HISTORY=memory and HERALD_SQLITE_SYNCHRONOUS=full, and refuses other values naming the variable', () => {
    expect(loadConfig({ HERALD_HISTORY: 'memory', HERALD_SQLITE_SYNCHRONOUS: 'full' })).toMatchObject({ history: 'memory', sqliteSynchronous: 'full' })
    expect(() => loadConfig({ HERALD_HISTORY: 'disk' })).toThrow(/HERALD_HISTORY/)
    expect(() => loadConfig({ HERALD_SQLITE_SYNCHRONOUS: 'off' })).toThrow(/HERALD_SQLITE_SYNCHRONOUS/)
  })
})
