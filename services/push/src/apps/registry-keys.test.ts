import { describe, expect, it } from 'vitest'
import type { AppStore } from './app-store.js'
import { AppRegistry } from './registry.js'

function storeWith(keys: Record<string, string>) {
  const calls: string[] = []
  const store = {
    async appIdOfKey(keyId: string) {
      calls.push(keyId)
      return keys[keyId] ?? null
    },
  } as unknown as AppStore
  return { store, calls }
}

describe('AppRegistry.appIdOfKey', () => {
  it('finds the app of a key once and keeps it', async () => {
    const { store, calls } = storeWith({ key_a: 'app_1' })
    const registry = new AppRegistry(store)
    expect(await registry.appIdOfKey('key_a')).toBe('app_1')
    expect(await registry.appIdOfKey('key_a')).toBe('app_1')
    registry.clear()
    expect(await registry.appIdOfKey('key_a')).toBe('app_1')
    expect(calls).toEqual(['key_a'])
  })

  it('answers null for an unknown key, asking the store once for a burst of lookups', async () => {
    const { store, calls } = storeWith({})
    const registry = new AppRegistry(store)
    const answers = await Promise.all([registry.appIdOfKey('key_x'), registry.appIdOfKey('key_x'), registry.appIdOfKey('key_x')])
    expect(answers).toEqual([null, null, null])
    expect(calls).toEqual(['key_x'])
  })
})
