import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest'
import { CloseCodes } from '@herald/protocol'
import { Client, type ClientOptions } from './client.js'
import { fakeEnv, fakeJwt } from './testing/fakes.js'

const flush = () => vi.advanceTimersByTimeAsync(10)

/** The fake clock's start, on a whole second. */
const START = Date.UTC(2026, 0, 1)

/**
 * The n-th token of a test, valid for `ttl` seconds. It does not read the clock: the same
 * arguments give the same token whenever they are called (the SDK schedules refreshes from
 * `exp - iat`, not from the clock).
 */
function tokenFor(ttl: number, n: number) {
  const iat = START / 1000
  return fakeJwt({ iat, exp: iat + ttl, sub: `u${n}` })
}

function setup(options: Partial<ClientOptions>) {
  const fake = fakeEnv()
  const client = new Client({ url: 'http://herald.test', appId: 'app_1', env: fake.env, backoff: { random: () => 0 }, ...options })
  const states: string[] = []
  client.on('state', (s) => states.push(`${s.current}:${s.reason}`))
  return { ...fake, client, states }
}

beforeEach(() => vi.useFakeTimers({ now: START }))
afterEach(() => vi.useRealTimers())

describe('tokens', () => {
  it('gets a token before connecting and refreshes it before exp with an auth frame', async () => {
    let n = 0
    const getToken = vi.fn(async () => tokenFor(10, ++n))
    const t = setup({ getToken })
    await flush()
    expect(getToken).toHaveBeenCalledTimes(1)
    const ws = t.lastSocket()
    expect(new URL(ws.url).searchParams.get('token')).toBe(tokenFor(10, 1))
    ws.frame({ op: 'connected', connectionId: 'c', clientId: 'u1', heartbeat: 25 })
    await vi.advanceTimersByTimeAsync(7_900)
    expect(getToken).toHaveBeenCalledTimes(1)
    await vi.advanceTimersByTimeAsync(100)
    expect(getToken).toHaveBeenCalledTimes(2)
    const [auth] = ws.ops('auth')
    expect(auth).toMatchObject({ op: 'auth', token: tokenFor(10, 2) })
    ws.frame({ op: 'authed', exp: 0, ref: auth.ref })
    expect(t.sockets).toHaveLength(1)
    expect(t.states).toEqual(['connecting:connect', 'connected:websocket'])
    // and again before the new one expires
    await vi.advanceTimersByTimeAsync(8_000)
    expect(getToken).toHaveBeenCalledTimes(3)
  })

  it('refreshes the token of an initial `token` too, when getToken is given', async () => {
    const getToken = vi.fn(async () => tokenFor(100, 2))
    const t = setup({ token: tokenFor(5, 1), getToken, transports: ['sse'] })
    t.client.subscribe('chat')
    await flush()
    expect(getToken).not.toHaveBeenCalled()
    const first = t.lastSource()
    first.emit('open')
    await vi.advanceTimersByTimeAsync(4_000)
    expect(getToken).toHaveBeenCalledTimes(1)
    // SSE: the stream is reopened with the new token (same positions), invisibly
    expect(first.closed).toBe(true)
    expect(t.lastSource().query('token')).toBe(tokenFor(100, 2))
    expect(t.states).toEqual(['connecting:connect', 'connected:sse'])
  })

  it('on unauthorized: calls getToken once more, then goes to failed instead of retrying', async () => {
    const getToken = vi.fn(async () => 'bad.token.x')
    const t = setup({ getToken })
    await flush()
    t.lastSocket().frame({ op: 'error', code: 'unauthorized', message: 'bad signature' })
    t.lastSocket().drop(CloseCodes.unauthorized, 'unauthorized')
    await flush()
    expect(getToken).toHaveBeenCalledTimes(2)
    expect(t.sockets).toHaveLength(2)
    t.lastSocket().drop(CloseCodes.unauthorized, 'unauthorized')
    await flush()
    expect(t.client.state).toBe('failed')
    await vi.advanceTimersByTimeAsync(120_000)
    expect(getToken).toHaveBeenCalledTimes(2)
    expect(t.sockets).toHaveLength(2)
    expect(t.states).toEqual(['connecting:connect', 'failed:unauthorized'])
  })

  it('recovers when the second token is good, and gets one more chance after the next success', async () => {
    let n = 0
    const getToken = vi.fn(async () => tokenFor(3600, ++n))
    const t = setup({ getToken, transports: ['longpoll'] })
    t.client.subscribe('chat')
    await flush()
    t.requests[0]!.respond(401, { error: { code: 'token_expired', message: 'expired' } })
    await flush()
    expect(getToken).toHaveBeenCalledTimes(2)
    expect(t.requests[1]!.query('token')).toBe(tokenFor(3600, 2))
    t.requests[1]!.respond(200, { cursor: '', messages: [] })
    await flush()
    expect(t.client.state).toBe('connected')
    t.requests[2]!.respond(401, { error: { code: 'token_expired', message: 'expired' } })
    await flush()
    expect(getToken).toHaveBeenCalledTimes(3)
    expect(t.client.state).toBe('connecting')
  })

  it('without getToken, unauthorized is failed at once', async () => {
    const t = setup({ token: 'x.y.z' })
    await flush()
    t.lastSocket().drop(CloseCodes.unauthorized)
    expect(t.client.state).toBe('failed')
    expect(t.sockets).toHaveLength(1)
  })
})

describe('publish, history, members', () => {
  it('asks getToken for an HTTP call made before any connection', async () => {
    const getToken = vi.fn(async () => tokenFor(3600, 1))
    const t = setup({ getToken, transports: ['sse'], autoConnect: false })
    const p = t.client.publish('chat', 'early')
    await flush()
    expect(getToken).toHaveBeenCalledTimes(1)
    expect((t.requests[0]!.init!.headers as Record<string, string>).authorization).toBe(`Bearer ${tokenFor(3600, 1)}`)
    t.requests[0]!.respond(200, { messages: [{ channel: 'chat', id: 'm', seq: 1, epoch: 'e' }] })
    await expect(p).resolves.toMatchObject({ seq: 1 })
    expect(t.sources).toHaveLength(0)
  })

  it('goes over the WebSocket when connected on it', async () => {
    const t = setup({})
    await flush()
    const ws = t.lastSocket()
    ws.frame({ op: 'connected', connectionId: 'c', heartbeat: 25 })
    const p = t.client.publish('chat', { text: 'hi' }, { name: 'greeting' })
    const [frame] = ws.ops('publish')
    expect(frame).toMatchObject({ channel: 'chat', data: { text: 'hi' }, name: 'greeting' })
    ws.frame({ op: 'published', channel: 'chat', id: 'm_1', seq: 3, epoch: 'e', ref: frame.ref })
    await expect(p).resolves.toEqual({ channel: 'chat', id: 'm_1', seq: 3, epoch: 'e' })
    const h = t.client.subscribe('chat').history({ limit: 2 })
    const [hf] = ws.ops('history')
    ws.frame({ op: 'error', code: 'forbidden', message: 'no history', ref: hf.ref })
    await expect(h).rejects.toMatchObject({ code: 'forbidden' })
    expect(t.requests).toHaveLength(0)
  })

  it('goes over HTTP with the bearer token otherwise', async () => {
    const t = setup({ token: 'tok.en.x', transports: ['sse'] })
    const p = t.client.publish('chat', 1)
    await flush()
    const req = t.requests[0]!
    expect(req.url).toBe('http://herald.test/v1/apps/app_1/messages')
    expect(req.init?.method).toBe('POST')
    expect((req.init!.headers as Record<string, string>).authorization).toBe('Bearer tok.en.x')
    expect(JSON.parse(String(req.init?.body))).toEqual({ channel: 'chat', data: 1 })
    req.respond(200, { messages: [{ channel: 'chat', id: 'm', seq: 1, epoch: 'e' }] })
    await expect(p).resolves.toEqual({ channel: 'chat', id: 'm', seq: 1, epoch: 'e' })
    const m = t.client.subscribe('presence-room').members()
    await flush()
    expect(t.requests[1]!.url).toBe('http://herald.test/v1/apps/app_1/channels/presence-room/presence')
    t.requests[1]!.respond(403, { error: { code: 'forbidden', message: 'no' } })
    await expect(m).rejects.toMatchObject({ code: 'forbidden', status: 403 })
  })
})
