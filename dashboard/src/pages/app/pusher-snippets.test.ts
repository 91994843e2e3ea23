import { describe, expect, it } from 'vitest'
import { pusherCredentials, pusherSnippets } from './pusher-snippets.js'

describe('Pusher credentials and samples', () => {
  const base = { appId: 'app_AbC', keyId: 'key_XyZ' }

  it('takes host, port and scheme from the origin, with the default ports', () => {
    expect(pusherCredentials({ ...base, origin: 'https://push.example.com', secret: null })).toEqual({
      appId: 'app_AbC',
      key: 'key_XyZ',
      secret: null,
      host: 'push.example.com',
      port: 443,
      scheme: 'https',
      useTLS: true,
    })
    expect(pusherCredentials({ ...base, origin: 'http://127.0.0.1:8080', secret: 's' })).toMatchObject({ host: '127.0.0.1', port: 8080, scheme: 'http', useTLS: false, secret: 's' })
    expect(pusherCredentials({ ...base, origin: 'http://localhost', secret: null }).port).toBe(80)
  })

  it('fills pusher-js, Echo, .env and the pusher library with the real values, the secret only when asked', () => {
    const s = pusherSnippets({ ...base, origin: 'http://127.0.0.1:8080', secret: null })
    expect(s.pusherJs).toContain("new Pusher('key_XyZ', {")
    expect(s.pusherJs).toContain("wsHost: '127.0.0.1'")
    expect(s.pusherJs).toContain('wsPort: 8080')
    expect(s.pusherJs).toContain('forceTLS: false')
    expect(s.echo).toContain("broadcaster: 'pusher'")
    expect(s.echo).toContain("key: 'key_XyZ'")
    expect(s.env).toContain('PUSHER_APP_ID=app_AbC')
    expect(s.env).toContain('PUSHER_HOST=127.0.0.1')
    expect(s.env).toContain('PUSHER_PORT=8080')
    expect(s.env).toContain('PUSHER_SCHEME=http')
    expect(s.node).toContain("appId: 'app_AbC'")
    expect(s.node).toContain('secret: process.env.PUSHER_APP_SECRET')
    const withSecret = pusherSnippets({ ...base, origin: 'https://push.example.com', secret: "se'cret" })
    expect(withSecret.node).toContain("secret: 'se\\'cret'")
    expect(withSecret.env).toContain("PUSHER_APP_SECRET=se'cret")
    expect(withSecret.pusherJs).toContain('forceTLS: true')
  })
})
