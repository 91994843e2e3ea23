import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest'
import { CloseCodes } from '@herald/protocol'
import { Client, type ClientOptions } from './client.js'
import type { StateChange } from './state.js'
import { fakeEnv, msg } from './testing/fakes.js'
import type { TransportHandlers } from './transports/transport.js'

const flush = () => vi.advanceTimersByTimeAsync(0)

function setup(options: Partial<ClientOptions> = {}) {
  const fake = fakeEnv()
  const client = new Client({ url: 'http://herald.test', appId: 'app_1', env: fake.env, ...options })
  const states: StateChange[] = []
  client.on('state', (s) => states.push(s))
  return { ...fake, client, states }
}

beforeEach(() => vi.useFakeTimers())
afterEach(() => vi.useRealTimers())

describe('Client state machine', () => {
  it('goes connecting → connected through one setState, with reasons', async () => {
    const { client, states, lastSocket } = setup()
    expect(client.state).toBe('disconnected')
    await flush()
    expect(client.state).toBe('connecting')
    expect(lastSocket().url).toBe('ws://herald.test/v1/apps/app_1/ws')
    expect(client.transport).toBeNull()
    lastSocket().frame({ op: 'connected', connectionId: 'c1', clientId: 'u1', heartbeat: 25 })
    expect(states).toEqual([
      { previous: 'disconnected', current: 'connecting', reason: 'connect' },
      { previous: 'connecting', current: 'connected', reason: 'websocket' },
    ])
    expect(client.transport).toBe('websocket')
    expect(client.clientId).toBe('u1')
  })

  it('after a drop: disconnected with retryIn, then reconnects when the timer fires', async () => {
    const { client, states, sockets, lastSocket } = setup({ backoff: { random: () => 0.5 } })
    await flush()
    lastSocket().frame({ op: 'connected', connectionId: 'c1', heartbeat: 25 })
    lastSocket().drop(CloseCodes.goingAway, 'going away')
    expect(states.at(-1)).toEqual({ previous: 'connected', current: 'disconnected', reason: 'going away', retryIn: 250 })
    expect(client.transport).toBeNull()
    await vi.advanceTimersByTimeAsync(249)
    expect(sockets).toHaveLength(1)
    await vi.advanceTimersByTimeAsync(1)
    expect(sockets).toHaveLength(2)
    expect(states.at(-1)).toMatchObject({ previous: 'disconnected', current: 'connecting', reason: 'reconnect' })
    lastSocket().frame({ op: 'connected', connectionId: 'c2', heartbeat: 25 })
    expect(client.state).toBe('connected')
  })

  it('backs off longer on each failed round and resets after a success', async () => {
    const { states, lastSocket } = setup({ transports: ['websocket'], backoff: { random: () => 0.999999 } })
    await flush()
    const delays: number[] = []
    for (let i = 0; i < 3; i++) {
      lastSocket().drop(CloseCodes.internal)
      delays.push(states.at(-1)!.retryIn!)
      await vi.advanceTimersByTimeAsync(states.at(-1)!.retryIn!)
    }
    expect(delays).toEqual([499, 999, 1999])
    lastSocket().frame({ op: 'connected', connectionId: 'c', heartbeat: 25 })
    lastSocket().drop(CloseCodes.internal)
    expect(states.at(-1)!.retryIn).toBe(499)
  })

  it(`goes to failed on ${CloseCodes.forbidden}, ${CloseCodes.appGone} and ${CloseCodes.frameTooLarge}, and retries with backoff on ${CloseCodes.rateLimited}`, async () => {
    for (const code of [CloseCodes.forbidden, CloseCodes.appGone, CloseCodes.frameTooLarge]) {
      const { client, sockets, lastSocket } = setup()
      await flush()
      lastSocket().frame({ op: 'connected', connectionId: 'c', heartbeat: 25 })
      lastSocket().drop(code)
      expect(client.state).toBe('failed')
      await vi.advanceTimersByTimeAsync(60_000)
      expect(sockets).toHaveLength(1)
    }
    const { client, states, sockets, lastSocket } = setup()
    await flush()
    lastSocket().frame({ op: 'connected', connectionId: 'c', heartbeat: 25 })
    lastSocket().drop(CloseCodes.rateLimited, 'too slow')
    expect(client.state).toBe('disconnected')
    expect(states.at(-1)!.retryIn).toBeTypeOf('number')
    await vi.advanceTimersByTimeAsync(states.at(-1)!.retryIn!)
    expect(sockets).toHaveLength(2)
  })

  it('close() stops reconnecting; connect() starts again', async () => {
    const { client, states, sockets, lastSocket } = setup()
    await flush()
    lastSocket().frame({ op: 'connected', connectionId: 'c', heartbeat: 25 })
    client.close()
    expect(states.at(-1)).toEqual({ previous: 'connected', current: 'disconnected', reason: 'closed' })
    expect(lastSocket().closedWith).toBe(1000)
    await vi.advanceTimersByTimeAsync(60_000)
    expect(sockets).toHaveLength(1)
    client.connect()
    expect(sockets).toHaveLength(2)
  })

  it('ignores the callbacks of a superseded transport (generation counter)', async () => {
    const captured: TransportHandlers[] = []
    const factory = (ctx: { handlers: TransportHandlers }) => {
      captured.push(ctx.handlers)
      return { name: 'websocket' as const, open() {}, subscribe() {}, unsubscribe() {}, setToken() {}, close() {} }
    }
    const { client } = setup({ transports: ['websocket'], factories: { websocket: factory }, backoff: { random: () => 0 } })
    const sub = client.subscribe('chat')
    const got: number[] = []
    sub.on('message', (m) => got.push(m.seq))
    await flush()
    captured[0]!.open({})
    captured[0]!.close({ opened: true, message: 'lost' })
    await vi.advanceTimersByTimeAsync(0)
    expect(captured).toHaveLength(2)
    // the old transport keeps talking: nothing of it may reach the app
    captured[0]!.subscribed({ channel: 'chat', epoch: 'e1', seq: 0 })
    captured[0]!.message(msg('chat', 'e1', 1))
    captured[0]!.close({ opened: true, status: CloseCodes.forbidden, message: 'late' })
    expect(got).toEqual([])
    expect(client.state).toBe('connecting')
    captured[1]!.open({})
    captured[1]!.subscribed({ channel: 'chat', epoch: 'e1', seq: 0 })
    captured[1]!.message(msg('chat', 'e1', 1))
    expect(got).toEqual([1])
    expect(client.state).toBe('connected')
  })

  it('respects offline/online events', async () => {
    const target = new EventTarget()
    const g = globalThis as unknown as Record<string, unknown>
    g.addEventListener = target.addEventListener.bind(target)
    g.removeEventListener = target.removeEventListener.bind(target)
    try {
      const { client, states, sockets, lastSocket } = setup()
      await flush()
      lastSocket().frame({ op: 'connected', connectionId: 'c', heartbeat: 25 })
      target.dispatchEvent(new Event('offline'))
      expect(states.at(-1)).toEqual({ previous: 'connected', current: 'disconnected', reason: 'offline' })
      await vi.advanceTimersByTimeAsync(60_000)
      expect(sockets).toHaveLength(1)
      target.dispatchEvent(new Event('online'))
      expect(client.state).toBe('connecting')
      expect(sockets).toHaveLength(2)
      // a closed client stops listening
      client.close()
      target.dispatchEvent(new Event('offline'))
      target.dispatchEvent(new Event('online'))
      expect(client.state).toBe('disconnected')
      expect(sockets).toHaveLength(2)
    } finally {
      delete g.addEventListener
      delete g.removeEventListener
    }
  })

  it('treats a silent WebSocket as dead: ping after heartbeat + margin, close without pong', async () => {
    const { client, sockets, lastSocket } = setup({ backoff: { random: () => 0 } })
    await flush()
    const ws = lastSocket()
    ws.frame({ op: 'connected', connectionId: 'c', heartbeat: 10 })
    await vi.advanceTimersByTimeAsync(14_000)
    ws.frame({ op: 'message', ...msg('x', 'e', 1) }) // anything counts as life
    await vi.advanceTimersByTimeAsync(14_000)
    expect(ws.ops('ping')).toHaveLength(0)
    await vi.advanceTimersByTimeAsync(1_000)
    expect(ws.ops('ping')).toHaveLength(1)
    ws.frame({ op: 'pong' })
    await vi.advanceTimersByTimeAsync(14_999)
    expect(client.state).toBe('connected')
    await vi.advanceTimersByTimeAsync(1)
    expect(ws.ops('ping')).toHaveLength(2)
    await vi.advanceTimersByTimeAsync(5_000)
    expect(client.state).not.toBe('connected')
    expect(ws.closedWith).toBe(1000)
    await vi.advanceTimersByTimeAsync(10)
    expect(sockets.length).toBeGreaterThan(1)
  })
})

describe('Client transport fallback', () => {
  it('refuses a transport list with no known transport', () => {
    expect(() => new Client({ appId: 'a', transports: ['carrier-pigeon' as never] })).toThrow(/no known transport/)
  })

  it('tries websocket, then sse, then longpoll, without the app seeing more than client.transport', async () => {
    const { client, states, sources, requests, lastSocket, lastSource } = setup()
    client.subscribe('chat')
    await flush()
    // The WebSocket opens at TCP level but nothing ever answers (a proxy): 5 s handshake timeout.
    await vi.advanceTimersByTimeAsync(4_999)
    expect(sources).toHaveLength(0)
    await vi.advanceTimersByTimeAsync(1)
    expect(lastSocket().closedWith).toBe(1000)
    expect(sources).toHaveLength(1)
    expect(lastSource().url).toBe('http://herald.test/v1/apps/app_1/sse?channels=chat')
    // EventSource fails too; the probe cannot reach the server either.
    lastSource().emit('error')
    expect(lastSource().closed).toBe(true)
    requests[0]!.fail()
    await flush()
    expect(requests[1]!.url).toBe('http://herald.test/v1/apps/app_1/poll?channels=chat&wait=0')
    requests[1]!.respond(200, { cursor: 'ZTEgMCBjaGF0', messages: [] })
    await flush()
    expect(client.state).toBe('connected')
    expect(client.transport).toBe('longpoll')
    expect(states.map((s) => s.current)).toEqual(['connecting', 'connected'])
    expect(states.at(-1)!.reason).toBe('longpoll')
  })

  it('falls back at once when the WebSocket is refused, and then prefers what worked', async () => {
    const { client, sockets, sources, lastSocket, lastSource } = setup({ backoff: { random: () => 0.5 } })
    client.subscribe('chat')
    await flush()
    lastSocket().drop(1006)
    expect(sources).toHaveLength(1)
    lastSource().emit('open')
    expect(client.transport).toBe('sse')
    lastSource().emit('error') // stream lost after it had opened: reconnect, not fallback
    await flush()
    expect(client.state).toBe('disconnected')
    await vi.advanceTimersByTimeAsync(250)
    expect(sources).toHaveLength(2)
    expect(sockets).toHaveLength(1)
  })

  it('does not fall back when Herald answered (auth errors are not transport problems)', async () => {
    const { client, sources, lastSocket } = setup()
    await flush()
    lastSocket().frame({ op: 'error', code: 'unauthorized', message: 'bad token' })
    lastSocket().drop(CloseCodes.unauthorized)
    expect(sources).toHaveLength(0)
    expect(client.state).toBe('failed')
  })

  it('skips a transport the runtime lacks (no EventSource) and uses the next one', async () => {
    const fake = fakeEnv()
    const env = { ...fake.env, EventSource: undefined as unknown as typeof EventSource }
    const client = new Client({ url: 'http://herald.test', appId: 'app_1', env, transports: ['sse', 'longpoll'] })
    client.subscribe('chat')
    await flush()
    expect(fake.requests[0]!.url).toContain('/poll?channels=chat')
    fake.requests[0]!.respond(200, { cursor: '', messages: [] })
    await flush()
    expect(client.transport).toBe('longpoll')
  })

  it('includes a channel subscribed while an SSE stream is still opening', async () => {
    const { client, sources, lastSource } = setup({ transports: ['sse'] })
    client.subscribe('chat')
    await flush()
    expect(lastSource().query('channels')).toBe('chat')
    client.subscribe('news')
    await flush()
    expect(sources[0]!.closed).toBe(true)
    expect(lastSource().query('channels')).toBe('chat,news')
    lastSource().emit('open')
    expect(client.state).toBe('connected')
  })

  it('sends one subscribe per channel, even for one made in a state handler', async () => {
    const { client, lastSocket } = setup()
    client.subscribe('a')
    client.on('state', ({ current }) => {
      if (current === 'connected') client.subscribe('b')
    })
    await flush()
    lastSocket().frame({ op: 'connected', connectionId: 'c', heartbeat: 25 })
    expect(
      lastSocket()
        .ops('subscribe')
        .map((f) => f.channel),
    ).toEqual(['a', 'b'])
  })

  it('follows the order given in transports', async () => {
    const { client, sockets, sources, requests } = setup({ transports: ['longpoll', 'sse'] })
    client.subscribe('chat')
    await flush()
    expect(sockets).toHaveLength(0)
    expect(sources).toHaveLength(0)
    expect(requests[0]!.url).toContain('/poll?')
    requests[0]!.fail()
    await flush()
    expect(sources).toHaveLength(1)
  })
})
