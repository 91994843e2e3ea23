import { describe, expect, it } from 'vitest'
import { snippets } from './quickstart-snippets.js'

describe('quick start snippets', () => {
  const base = { origin: 'https://push.example.com', appId: 'app_AbC', keyId: 'key_XyZ' }

  it('fills in the real ids and keeps the secret out unless asked', () => {
    const s = snippets({ ...base, secret: null })
    expect(s.scriptTag).toContain('<script src="https://push.example.com/sdk/herald.js"></script>')
    expect(s.scriptTag).toContain("new Herald.Client({ url: 'https://push.example.com', appId: 'app_AbC' })")
    expect(s.scriptTag).toContain("client.subscribe('chat'")
    expect(s.curl).toContain("'https://push.example.com/v1/apps/app_AbC/messages'")
    expect(s.curl).toContain('-u "key_XyZ:$HERALD_SECRET"')
    expect(s.node).toContain("keyId: 'key_XyZ'")
    expect(s.node).toContain('secret: process.env.HERALD_SECRET')
    expect(s.node).toContain("herald.publish('chat', { text: 'hello' }")
  })

  it('inlines and quotes a given secret', () => {
    const s = snippets({ ...base, secret: 'se_cr-et' })
    expect(s.curl).toContain("-u 'key_XyZ:se_cr-et'")
    expect(s.node).toContain("secret: 'se_cr-et'")
  })
})
