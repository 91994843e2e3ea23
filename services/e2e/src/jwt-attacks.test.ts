import { CloseCodes } from '@herald/protocol'
import { generateKeyPairSync } from 'node:crypto'
import { SignJWT, importPKCS8 } from 'jose'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { b64url, expectError, hsJwt, http, now, scrape, metric, sseAttempt, wsAttempt } from './support/attack.js'
import { createApp, signToken, startHerald, type CreatedApp, type HeraldProcess } from './support/herald.js'
import WebSocket from 'ws'
import { until, WsClient } from './support/ws-client.js'

/**
 * Every forged, tampered, expired or malformed client token is refused the same way on every
 * surface: WebSocket (error frame + close CloseCodes.unauthorized), SSE and poll (401) and REST Bearer (401).
 */

let h: HeraldProcess
let app: CreatedApp
let other: CreatedApp
let revoked: { keyId: string; secret: string }
let shortTtl: CreatedApp
const attacks: Array<{ name: string; token: () => string | Promise<string>; code: 'unauthorized' | 'token_expired'; onApp?: () => CreatedApp }> = []

beforeAll(async () => {
  h = await startHerald()
  app = await createApp(h, { anonymousSubscribe: false }, 'victim')
  other = await createApp(h, {}, 'other')
  shortTtl = await createApp(h, { maxTokenTtlSeconds: 60, anonymousSubscribe: false }, 'short-ttl')
  const created = await http(h.url, 'POST', `/admin/v1/apps/${app.appId}/keys`, {
    headers: { authorization: `Bearer ${h.adminToken}`, 'content-type': 'application/json' },
    body: JSON.stringify({ label: 'to revoke' }),
  })
  expect(created.status).toBe(201)
  revoked = created.json.key
  const del = await http(h.url, 'DELETE', `/admin/v1/apps/${app.appId}/keys/${revoked.keyId}`, { headers: { authorization: `Bearer ${h.adminToken}` } })
  expect(del.status).toBe(204)
})
afterAll(async () => {
  await h?.stop()
})

const claims = () => ({ sub: 'mallory', exp: now() + 600, iat: now(), cap: { 'private-a': ['subscribe', 'publish'] } })
const header = () => ({ alg: 'HS256', kid: app.keyId, typ: 'JWT' })
const { privateKey, publicKey } = generateKeyPairSync('rsa', { modulusLength: 2048 })
const publicPem = publicKey.export({ type: 'spki', format: 'pem' }) as string
const privatePem = privateKey.export({ type: 'pkcs8', format: 'pem' }) as string

/** A valid token of the victim app, then its payload swapped for `change(payload)` keeping the signature. */
function tampered(change: (p: Record<string, any>) => void): string {
  const p = claims()
  const token = hsJwt(header(), p, app.secret)
  const [h0, , sig] = token.split('.')
  const q: Record<string, any> = structuredClone(p)
  change(q)
  return `${h0}.${b64url(JSON.stringify(q))}.${sig}`
}

attacks.push(
  {
    name: 'alg none, no signature',
    code: 'unauthorized',
    token: () => `${b64url(JSON.stringify({ alg: 'none', kid: app.keyId }))}.${b64url(JSON.stringify(claims()))}.`,
  },
  { name: 'alg None (case) with an HMAC signature', code: 'unauthorized', token: () => hsJwt({ alg: 'None', kid: app.keyId }, claims(), app.secret) },
  { name: 'alg hs256 (lower case)', code: 'unauthorized', token: () => hsJwt({ alg: 'hs256', kid: app.keyId }, claims(), app.secret) },
  {
    name: 'HS512 signed with the right secret',
    code: 'unauthorized',
    token: () => new SignJWT(claims()).setProtectedHeader({ alg: 'HS512', kid: app.keyId }).sign(new TextEncoder().encode(app.secret)),
  },
  {
    name: 'RS256 token (key confusion)',
    code: 'unauthorized',
    token: async () => new SignJWT(claims()).setProtectedHeader({ alg: 'RS256', kid: app.keyId }).sign(await importPKCS8(privatePem, 'RS256')),
  },
  { name: 'HS256 signed with an RSA public key PEM as the secret', code: 'unauthorized', token: () => hsJwt(header(), claims(), publicPem) },
  {
    name: "kid of another app's key, signed with that key",
    code: 'unauthorized',
    token: () => hsJwt({ alg: 'HS256', kid: other.keyId }, claims(), other.secret),
  },
  { name: "kid of this app, signed with another app's secret", code: 'unauthorized', token: () => hsJwt(header(), claims(), other.secret) },
  { name: 'a revoked key', code: 'unauthorized', token: () => hsJwt({ alg: 'HS256', kid: revoked.keyId }, claims(), revoked.secret) },
  {
    name: 'secret decoded from base64url instead of UTF-8',
    code: 'unauthorized',
    token: () => hsJwt(header(), claims(), Buffer.from(app.secret, 'base64url')),
  },
  {
    name: 'tampered: capability widened',
    code: 'unauthorized',
    token: () => tampered((p) => (p.cap = { '*': ['subscribe', 'publish', 'presence', 'history'] })),
  },
  { name: 'tampered: sub changed', code: 'unauthorized', token: () => tampered((p) => (p.sub = 'admin')) },
  { name: 'tampered: exp extended', code: 'unauthorized', token: () => tampered((p) => (p.exp += 86_400)) },
  { name: 'signature stripped', code: 'unauthorized', token: () => hsJwt(header(), claims(), app.secret).replace(/\.[^.]+$/, '.') },
  {
    name: 'expired (past the 30 s leeway)',
    code: 'token_expired',
    token: () => hsJwt(header(), { ...claims(), exp: now() - 120, iat: now() - 600 }, app.secret),
  },
  { name: 'not yet valid (nbf in 10 minutes)', code: 'unauthorized', token: () => hsJwt(header(), { ...claims(), nbf: now() + 600 }, app.secret) },
  { name: 'exp without iat beyond the default 24 h', code: 'unauthorized', token: () => hsJwt(header(), { sub: 'x', exp: now() + 3 * 86_400 }, app.secret) },
  {
    name: 'exp beyond maxTokenTtlSeconds (60 s app, 1 h token)',
    code: 'unauthorized',
    onApp: () => shortTtl,
    token: () => hsJwt({ alg: 'HS256', kid: shortTtl.keyId }, { sub: 'x', iat: now(), exp: now() + 3600 }, shortTtl.secret),
  },
  {
    name: 'iat in the future to stretch the lifetime',
    code: 'unauthorized',
    onApp: () => shortTtl,
    token: () => hsJwt({ alg: 'HS256', kid: shortTtl.keyId }, { sub: 'x', iat: now() + 3600, exp: now() + 3630 }, shortTtl.secret),
  },
  { name: 'missing exp', code: 'unauthorized', token: () => hsJwt(header(), { sub: 'x', iat: now() }, app.secret) },
  { name: 'exp as a string', code: 'unauthorized', token: () => hsJwt(header(), { sub: 'x', exp: String(now() + 60) }, app.secret) },
  { name: 'oversized token (> 8 KiB), validly signed', code: 'unauthorized', token: () => hsJwt(header(), { ...claims(), pad: 'x'.repeat(9000) }, app.secret) },
  { name: 'garbage', code: 'unauthorized', token: () => 'not-a-token' },
  { name: 'three empty parts', code: 'unauthorized', token: () => '..' },
  { name: 'header not JSON', code: 'unauthorized', token: () => `${b64url('{"alg":')}.${b64url(JSON.stringify(claims()))}.abc` },
  {
    name: 'JWE compact (5 parts)',
    code: 'unauthorized',
    token: () =>
      [
        b64url(JSON.stringify({ alg: 'dir', enc: 'A256GCM', kid: app.keyId })),
        '',
        b64url('iviviviviviv'),
        b64url('ciphertext'),
        b64url('tagtagtagtagtagt'),
      ].join('.'),
  },
  { name: 'kid path traversal', code: 'unauthorized', token: () => hsJwt({ alg: 'HS256', kid: '../../../../etc/passwd' }, claims(), app.secret) },
  { name: 'kid SQL-ish', code: 'unauthorized', token: () => hsJwt({ alg: 'HS256', kid: "' OR 1=1 --" }, claims(), app.secret) },
  { name: 'kid very long', code: 'unauthorized', token: () => hsJwt({ alg: 'HS256', kid: 'k'.repeat(4_000) }, claims(), app.secret) },
  { name: 'kid not a string', code: 'unauthorized', token: () => hsJwt({ alg: 'HS256', kid: { $ne: null } }, claims(), app.secret) },
  { name: 'no kid', code: 'unauthorized', token: () => hsJwt({ alg: 'HS256' }, claims(), app.secret) },
  { name: 'unknown crit header', code: 'unauthorized', token: () => hsJwt({ ...header(), crit: ['x-herald'], 'x-herald': 1 }, claims(), app.secret) },
  { name: 'cap of the wrong shape', code: 'unauthorized', token: () => hsJwt(header(), { ...claims(), cap: ['*'] }, app.secret) },
  { name: 'sub of the wrong type', code: 'unauthorized', token: () => hsJwt(header(), { ...claims(), sub: 42 }, app.secret) },
)

describe('forged and broken tokens are refused on every surface', () => {
  it.each(attacks.map((a) => [a.name, a] as const))('%s', async (_name, attack) => {
    const target = attack.onApp?.() ?? app
    const token = await attack.token()
    const q = encodeURIComponent(token)

    const ws = await wsAttempt(`${h.wsUrl}/v1/apps/${target.appId}/ws?token=${q}`)
    expect(ws.code, JSON.stringify(ws)).toBe(CloseCodes.unauthorized)
    expect(ws.frames).toHaveLength(1)
    expect(ws.frames[0]).toMatchObject({ op: 'error', code: attack.code })

    const sse = await sseAttempt(`${h.url}/v1/apps/${target.appId}/sse?channels=private-a&token=${q}`)
    expectError(sse as any, attack.code, 'sse')

    const poll = await http(h.url, 'GET', `/v1/apps/${target.appId}/poll?channels=private-a&wait=0&token=${q}`)
    expectError(poll, attack.code, 'poll')

    const rest = await http(h.url, 'POST', `/v1/apps/${target.appId}/messages`, {
      headers: { authorization: `Bearer ${token}`, 'content-type': 'application/json' },
      body: JSON.stringify({ channel: 'private-a', data: 'forged' }),
    })
    expectError(rest, attack.code, 'rest')
  })

  it('a refreshed token on a live connection is checked the same way and changes nothing when refused', async () => {
    const good = await signToken(app, { sub: 'mallory', cap: { 'public-*': ['subscribe'] } })
    const c = await WsClient.connect(`${h.wsUrl}/v1/apps/${app.appId}/ws?token=${encodeURIComponent(good)}`)
    for (const attack of attacks.filter((a) => !a.onApp)) {
      const reply = await c.request({ op: 'auth', token: await attack.token() })
      expect(reply, attack.name).toMatchObject({ op: 'error', code: attack.code })
    }
    // still the old, narrow identity
    expect(await c.request({ op: 'subscribe', channel: 'private-a' })).toMatchObject({ op: 'error', code: 'forbidden' })
    expect(await c.request({ op: 'subscribe', channel: 'public-1' })).toMatchObject({ op: 'subscribed' })
    c.close()
  })

  it('a genuine token still works, and the refusals were counted', async () => {
    const token = await signToken(app, { sub: 'alice', cap: { 'private-a': ['subscribe'] } })
    const c = await WsClient.connect(`${h.wsUrl}/v1/apps/${app.appId}/ws?token=${encodeURIComponent(token)}`)
    expect(await c.request({ op: 'subscribe', channel: 'private-a' })).toMatchObject({ op: 'subscribed' })
    c.close()
    const s = await scrape(h)
    const n = attacks.filter((a) => !a.onApp).length
    expect(metric(s, 'herald_auth_failures_total', { app: app.appId, transport: 'websocket' })).toBeGreaterThanOrEqual(2 * n)
    expect(metric(s, 'herald_auth_failures_total', { app: app.appId, transport: 'sse' })).toBeGreaterThanOrEqual(n)
    expect(metric(s, 'herald_auth_failures_total', { app: app.appId, transport: 'longpoll' })).toBeGreaterThanOrEqual(n)
    expect(metric(s, 'herald_auth_failures_total', { app: app.appId, transport: 'rest', code: 'token_expired' })).toBeGreaterThanOrEqual(1)
  })
})

describe('revocation and origins reach every transport', () => {
  it('revoking a key ends the SSE streams and held polls that used it, and closes its WebSockets', async () => {
    const a = await createApp(h, {}, 'revoke-all')
    const k = await http(h.url, 'POST', `/admin/v1/apps/${a.appId}/keys`, {
      headers: { authorization: `Bearer ${h.adminToken}`, 'content-type': 'application/json' },
      body: '{}',
    })
    const key = k.json.key as { keyId: string; secret: string }
    const token = await signToken(key, { sub: 'doomed', cap: { '*': ['subscribe'] } })
    const other = await signToken(a, { sub: 'safe', cap: { '*': ['subscribe'] } })

    const ws = await WsClient.connect(`${h.wsUrl}/v1/apps/${a.appId}/ws?token=${token}`)
    const wsSafe = await WsClient.connect(`${h.wsUrl}/v1/apps/${a.appId}/ws?token=${other}`)
    const sse = sseAttempt(`${h.url}/v1/apps/${a.appId}/sse?channels=c&token=${token}`, { until: (t) => t.includes('event: error'), timeoutMs: 20_000 })
    const first = await http(h.url, 'GET', `/v1/apps/${a.appId}/poll?channels=c&wait=0&token=${token}`)
    const held = http(h.url, 'GET', `/v1/apps/${a.appId}/poll?channels=c&wait=25&cursor=${encodeURIComponent(first.json.cursor)}&token=${token}`, {
      timeoutMs: 30_000,
    })
    // the stream and the held poll are registered connections
    await until(
      async () => {
        const s = await scrape(h)
        return (
          metric(s, 'herald_connections', { app: a.appId, transport: 'sse' }) === 1 &&
          metric(s, 'herald_connections', { app: a.appId, transport: 'longpoll' }) === 1
        )
      },
      10_000,
      'sse stream and held poll',
    )

    const del = await http(h.url, 'DELETE', `/admin/v1/apps/${a.appId}/keys/${key.keyId}`, { headers: { authorization: `Bearer ${h.adminToken}` } })
    expect(del.status).toBe(204)
    expect((await ws.closed).code).toBe(CloseCodes.unauthorized)
    const stream = await sse
    expect(stream.status).toBe(200)
    expect(stream.text).toMatch(/event: error\ndata: \{"code":"unauthorized"/)
    const poll = await held
    expectError(poll, 'unauthorized', 'held poll of a revoked key')
    expect(await wsSafe.request({ op: 'ping' })).toMatchObject({ op: 'pong' })
    wsSafe.close()
  })

  it('refuses browsers from origins outside allowedOrigins on every transport', async () => {
    const a = await createApp(h, { allowedOrigins: ['https://good.example'] }, 'origins')
    const evil = { origin: 'https://evil.example' }
    const ws = await new Promise<number>((resolve) => {
      const s = new WebSocket(`${h.wsUrl}/v1/apps/${a.appId}/ws`, { headers: evil })
      s.on('error', () => {})
      s.on('close', (code: number) => resolve(code))
    })
    expect(ws).toBe(CloseCodes.forbidden)
    expectError((await sseAttempt(`${h.url}/v1/apps/${a.appId}/sse?channels=c`, { headers: evil })) as any, 'forbidden', 'sse')
    expectError(await http(h.url, 'GET', `/v1/apps/${a.appId}/poll?channels=c&wait=0`, { headers: evil }), 'forbidden', 'poll')
    const pre = await http(h.url, 'OPTIONS', `/v1/apps/${a.appId}/messages`, { headers: { ...evil, 'access-control-request-method': 'POST' } })
    expect(pre.headers.get('access-control-allow-origin')).toBeNull()
    const good = await http(h.url, 'OPTIONS', `/v1/apps/${a.appId}/messages`, {
      headers: { origin: 'https://good.example', 'access-control-request-method': 'POST' },
    })
    expect(good.headers.get('access-control-allow-origin')).toBe('https://good.example')
    const ok = await http(h.url, 'GET', `/v1/apps/${a.appId}/poll?channels=c&wait=0`, { headers: { origin: 'https://good.example' } })
    expect(ok.status).toBe(200)
  })
})
