import Pusher from 'pusher'
import { describe, expect, it } from 'vitest'
import {
  apiSigningString,
  md5Hex,
  parseSocketAuth,
  signApiRequest,
  signChannel,
  signUser,
  verifyApiRequest,
  verifyChannelSignature,
  verifyUserSignature,
  type ApiRequest,
} from './signature.js'

const keyId = 'key_abc'
const secret = 'c2VjcmV0LXNlY3JldC1zZWNyZXQtc2VjcmV0LXNlY3JldA'
const secretOf = async (k: string) => (k === keyId ? secret : null)
const pusher = new Pusher({ appId: 'app_1', key: keyId, secret, host: 'localhost', port: '80' })

/** A request exactly as the `pusher` library would send it, from its own signed query string. */
function libraryRequest(method: string, path: string, body?: object, params?: Record<string, string>): ApiRequest {
  const text = body === undefined ? undefined : JSON.stringify(body)
  const qs = pusher.createSignedQueryString({ method, path, body: text, params })
  const query = qs.split('&').map((pair) => {
    const eq = pair.indexOf('=')
    return [pair.slice(0, eq), pair.slice(eq + 1)] as [string, string]
  })
  return { method, path, query, body: new TextEncoder().encode(text ?? '') }
}

const now = () => Date.now()

function parsedAuth(auth: string): { keyId: string; signature: string } {
  const parsed = parseSocketAuth(auth)
  if (!parsed) throw new Error(`not a socket auth: ${auth}`)
  return parsed
}

describe('verifyApiRequest', () => {
  it('accepts what the pusher library signs, with and without a body', async () => {
    const post = libraryRequest('POST', '/apps/app_1/events', { name: 'e', channels: ['a'], data: '{"x":1}' })
    expect(await verifyApiRequest(post, secretOf, now())).toEqual({ ok: true, keyId })
    const get = libraryRequest('GET', '/apps/app_1/channels', undefined, { filter_by_prefix: 'presence-', info: 'user_count' })
    expect(await verifyApiRequest(get, secretOf, now())).toEqual({ ok: true, keyId })
  })

  it('refuses a changed path, query, method or body with 401', async () => {
    const req = libraryRequest('POST', '/apps/app_1/events', { name: 'e', channel: 'a', data: 'x' })
    const changedPath = { ...req, path: '/apps/app_2/events' }
    expect(await verifyApiRequest(changedPath, secretOf, now())).toMatchObject({ ok: false, status: 401, message: expect.stringMatching(/Invalid signature/) })
    expect(await verifyApiRequest({ ...req, method: 'PUT' }, secretOf, now())).toMatchObject({ ok: false, status: 401 })
    const otherBody = { ...req, body: new TextEncoder().encode('{"name":"e","channel":"b","data":"x"}') }
    expect(await verifyApiRequest(otherBody, secretOf, now())).toMatchObject({ ok: false, message: 'body_md5 does not match the body' })
    const get = libraryRequest('GET', '/apps/app_1/channels', undefined, { filter_by_prefix: 'a' })
    const extra = { ...get, query: [...get.query, ['filter_by_prefix', 'b'] as [string, string]] }
    expect(await verifyApiRequest(extra, secretOf, now())).toMatchObject({ ok: false, message: expect.stringMatching(/more than once/) })
    const swapped = { ...get, query: get.query.map(([k, v]) => [k, k === 'filter_by_prefix' ? 'b' : v] as [string, string]) }
    expect(await verifyApiRequest(swapped, secretOf, now())).toMatchObject({ ok: false, message: expect.stringMatching(/Invalid signature/) })
  })

  it('refuses an unknown key, a missing parameter, another version and a missing body_md5', async () => {
    const req = libraryRequest('POST', '/apps/app_1/events', { name: 'e', channel: 'a', data: 'x' })
    const withKey = (k: string) => ({ ...req, query: req.query.map(([n, v]) => [n, n === 'auth_key' ? k : v] as [string, string]) })
    expect(await verifyApiRequest(withKey('key_other'), secretOf, now())).toMatchObject({ ok: false, status: 401, message: 'Unknown auth_key key_other' })
    for (const name of ['auth_key', 'auth_timestamp', 'auth_version', 'auth_signature']) {
      const without = { ...req, query: req.query.filter(([n]) => n !== name) }
      expect(await verifyApiRequest(without, secretOf, now())).toMatchObject({ ok: false, status: 401, message: `Missing ${name}` })
    }
    const noMd5 = { ...req, query: req.query.filter(([n]) => n !== 'body_md5') }
    expect(await verifyApiRequest(noMd5, secretOf, now())).toMatchObject({ ok: false, message: expect.stringMatching(/Missing body_md5/) })
    const v2 = { ...req, query: req.query.map(([n, v]) => [n, n === 'auth_version' ? '2.0' : v] as [string, string]) }
    expect(await verifyApiRequest(v2, secretOf, now())).toMatchObject({ ok: false, message: expect.stringMatching(/auth_version/) })
  })

  it('accepts a timestamp within 600 s of the server clock and refuses one outside', async () => {
    const req = libraryRequest('GET', '/apps/app_1/channels')
    const ts = Number(new Map(req.query).get('auth_timestamp')) * 1000
    expect((await verifyApiRequest(req, secretOf, ts + 600_000)).ok).toBe(true)
    expect((await verifyApiRequest(req, secretOf, ts - 600_000)).ok).toBe(true)
    expect(await verifyApiRequest(req, secretOf, ts + 601_000)).toMatchObject({ ok: false, status: 401, message: expect.stringMatching(/^Timestamp expired/) })
    expect(await verifyApiRequest(req, secretOf, ts - 601_000)).toMatchObject({ ok: false, message: expect.stringMatching(/^Timestamp expired/) })
  })

  it("accepts the worked example of Pusher's HTTP API reference, at its own timestamp", async () => {
    const body = '{"name":"foo","channels":["project-3"],"data":"{\\"some\\":\\"data\\"}"}'
    expect(md5Hex(body)).toBe('ec365a775a4cd0599faeb73354201b6f')
    const req: ApiRequest = {
      method: 'POST',
      path: '/apps/3/events',
      query: [
        ['auth_key', '278d425bdf160c739803'],
        ['auth_timestamp', '1353088179'],
        ['auth_version', '1.0'],
        ['body_md5', 'ec365a775a4cd0599faeb73354201b6f'],
        ['auth_signature', 'da454824c97ba181a32ccc17a72625ba02771f50b50e1e7430e47a1f3f457e6c'],
      ],
      body: new TextEncoder().encode(body),
    }
    const secretOfExample = async (k: string) => (k === '278d425bdf160c739803' ? '7ad3773142a6692b25b8' : null)
    expect(await verifyApiRequest(req, secretOfExample, 1353088179_000)).toEqual({ ok: true, keyId: '278d425bdf160c739803' })
    expect(await verifyApiRequest(req, secretOfExample, (1353088179 + 601) * 1000)).toMatchObject({ ok: false, status: 401 })
  })

  it('lowercases and sorts parameter names, signs decoded values, leaves auth_signature out', () => {
    const text = apiSigningString('get', '/apps/a/channels', [['info', 'user_count,subscription_count'], ['auth_signature', 'x'], ['auth_key', 'k']])
    expect(text).toBe('GET\n/apps/a/channels\nauth_key=k&info=user_count,subscription_count')
    expect(signApiRequest(secret, 'GET', '/p', [['B', '1'], ['a', '2']])).toBe(signApiRequest(secret, 'GET', '/p', [['a', '2'], ['b', '1']]))
    expect(md5Hex('{}')).toBe('99914b932bd37a50b983c5e7c90ae93b')
  })
})

describe('channel and user auth', () => {
  const socketId = '123.456'

  it('accepts authorizeChannel for private and presence channels, and only for that socket and channel', () => {
    const priv = pusher.authorizeChannel(socketId, 'private-orders')
    const parsed = parsedAuth(priv.auth)
    expect(parsed.keyId).toBe(keyId)
    expect(verifyChannelSignature(secret, parsed.signature, socketId, 'private-orders')).toBe(true)
    expect(verifyChannelSignature(secret, parsed.signature, '123.457', 'private-orders')).toBe(false)
    expect(verifyChannelSignature(secret, parsed.signature, socketId, 'private-other')).toBe(false)
    expect(priv.auth).toBe(signChannel(keyId, secret, socketId, 'private-orders'))

    const pres = pusher.authorizeChannel(socketId, 'presence-room', { user_id: 'u1', user_info: { name: 'Ann' } })
    const p = parsedAuth(pres.auth)
    expect(verifyChannelSignature(secret, p.signature, socketId, 'presence-room', pres.channel_data)).toBe(true)
    expect(verifyChannelSignature(secret, p.signature, socketId, 'presence-room', '{"user_id":"u2"}')).toBe(false)
    expect(verifyChannelSignature(secret, p.signature, socketId, 'presence-room')).toBe(false)
    expect(verifyChannelSignature('another-secret', p.signature, socketId, 'presence-room', pres.channel_data)).toBe(false)
  })

  it('accepts authenticateUser for that socket and user data only', () => {
    const user = pusher.authenticateUser(socketId, { id: 'u1', name: 'Ann' })
    const parsed = parsedAuth(user.auth)
    expect(verifyUserSignature(secret, parsed.signature, socketId, user.user_data)).toBe(true)
    expect(verifyUserSignature(secret, parsed.signature, socketId, '{"id":"u2"}')).toBe(false)
    expect(verifyUserSignature(secret, parsed.signature, '1.2', user.user_data)).toBe(false)
    expect(user.auth).toBe(signUser(keyId, secret, socketId, user.user_data))
  })

  it('parses only "<key>:<64 hex>"', () => {
    expect(parseSocketAuth(`key_a:${'a'.repeat(64)}`)).toEqual({ keyId: 'key_a', signature: 'a'.repeat(64) })
    for (const bad of [undefined, 42, '', 'nokey', `:${'a'.repeat(64)}`, `k:${'A'.repeat(64)}`, 'k:abc', `k:${'a'.repeat(600)}`]) {
      expect(parseSocketAuth(bad)).toBeNull()
    }
  })
})
