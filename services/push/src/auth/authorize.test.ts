import { describe, expect, it } from 'vitest'
import { DEFAULT_SETTINGS } from '../apps/settings.js'
import type { App } from '../apps/types.js'
import type { HeraldError } from '../errors.js'
import { authorize, type Action } from './authorize.js'
import { compileCapability, intersect } from './capability.js'
import type { Identity } from './identity.js'

const app: App = { id: 'app_a', name: 'a', settings: DEFAULT_SETTINGS, createdAt: '' }
const closed: App = { ...app, settings: { ...DEFAULT_SETTINGS, anonymousSubscribe: false } }
const anon: Identity = { kind: 'anonymous', appId: 'app_a' }
const token = (cap: Record<string, string[]>, clientId?: string): Identity => ({
  kind: 'token',
  appId: 'app_a',
  keyId: 'k',
  exp: 0,
  capability: compileCapability(cap as never),
  ...(clientId ? { clientId } : {}),
})

function code(a: App, id: Identity, channel: string, action: Action): string {
  try {
    authorize(a, id, channel, action)
    return 'ok'
  } catch (e) {
    return (e as HeraldError).code
  }
}

describe('capability patterns', () => {
  it('matches * as any run of characters and nothing else', () => {
    const c = compileCapability({ 'chat:*': ['subscribe'], 'private-user-42': ['publish'] })
    expect(c.allows('chat:1', 'subscribe')).toBe(true)
    expect(c.allows('chat:', 'subscribe')).toBe(true)
    expect(c.allows('chatx', 'subscribe')).toBe(false)
    expect(c.allows('chat:1', 'publish')).toBe(false)
    expect(c.allows('private-user-42', 'publish')).toBe(true)
    expect(c.allows('private-user-421', 'publish')).toBe(false)
    // regex metacharacters in patterns are literal
    expect(compileCapability({ 'a.b': ['history'] }).allows('axb', 'history')).toBe(false)
  })

  it('never grants more than the key', () => {
    const key = compileCapability({ 'chat:*': ['subscribe'] })
    const tok = compileCapability({ '*': ['subscribe', 'publish'] })
    const both = intersect(key, tok)
    expect(both.allows('chat:1', 'subscribe')).toBe(true)
    expect(both.allows('chat:1', 'publish')).toBe(false)
    expect(both.allows('news', 'subscribe')).toBe(false)
  })
})

describe('channel rules', () => {
  it('lets anyone subscribe to public channels only while anonymousSubscribe is on', () => {
    expect(code(app, anon, 'news', 'subscribe')).toBe('ok')
    expect(code(closed, anon, 'news', 'subscribe')).toBe('forbidden')
    expect(code(closed, token({ news: ['subscribe'] }), 'news', 'subscribe')).toBe('ok')
  })

  it('needs subscribe for private and sub + presence for presence channels', () => {
    expect(code(app, anon, 'private-x', 'subscribe')).toBe('forbidden')
    expect(code(app, token({ 'private-*': ['subscribe'] }), 'private-x', 'subscribe')).toBe('ok')
    expect(code(app, token({ '*': ['presence'] }), 'presence-x', 'subscribe')).toBe('forbidden')
    expect(code(app, token({ '*': ['subscribe'] }, 'u1'), 'presence-x', 'subscribe')).toBe('forbidden')
    expect(code(app, token({ '*': ['presence'] }, 'u1'), 'presence-x', 'subscribe')).toBe('ok')
  })

  it('needs publish and history capabilities, whatever the channel kind', () => {
    expect(code(app, anon, 'news', 'publish')).toBe('forbidden')
    expect(code(app, token({ news: ['subscribe'] }), 'news', 'publish')).toBe('forbidden')
    expect(code(app, token({ news: ['publish'] }), 'news', 'publish')).toBe('ok')
    expect(code(app, anon, 'news', 'history')).toBe('forbidden')
    expect(code(app, token({ news: ['history'] }), 'news', 'history')).toBe('ok')
  })

  it('rejects bad channel names and identities of another app', () => {
    expect(code(app, anon, 'a,b', 'subscribe')).toBe('bad_request')
    expect(code(app, anon, '', 'subscribe')).toBe('bad_request')
    expect(code(app, { kind: 'anonymous', appId: 'app_b' }, 'news', 'subscribe')).toBe('forbidden')
  })
})
