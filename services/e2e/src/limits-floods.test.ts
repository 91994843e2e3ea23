import { CloseCodes } from '@herald/protocol'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { expectAlive, expectError, history, http, sseAttempt, wsAttempt } from './support/attack.js'
import { createApp, publish, signToken, startHerald, type CreatedApp, type HeraldProcess } from './support/herald.js'
import { until, WsClient } from './support/ws-client.js'

/**
 * Floods against the limits: connections per app, publish rate, message and body size,
 * subscriptions per connection, frames in flight, admin sign-in attempts. Each limit answers
 * with its contract code and nothing past a limit takes effect.
 */

let h: HeraldProcess
const open: WsClient[] = []
const ws = (app: CreatedApp, token?: string) => `${h.wsUrl}/v1/apps/${app.appId}/ws${token ? `?token=${encodeURIComponent(token)}` : ''}`

beforeAll(async () => {
  h = await startHerald({ env: { HERALD_MAX_SUBSCRIPTIONS_PER_CONNECTION: '3', HERALD_MAX_FRAME_BYTES: '4096' } })
})
afterAll(async () => {
  for (const c of open) c.ws.terminate()
  await h?.stop()
})

async function connect(url: string): Promise<WsClient> {
  const c = await WsClient.connect(url)
  open.push(c)
  return c
}

describe('connections per app', () => {
  it('refuses the connection past maxConnections on every transport, and admits again once one leaves', async () => {
    const app = await createApp(h, { maxConnections: 5 })
    const clients: WsClient[] = []
    for (let i = 0; i < 5; i++) clients.push(await connect(ws(app)))

    const sixth = await wsAttempt(ws(app))
    expect(sixth.code).toBe(CloseCodes.rateLimited)
    expect(sixth.frames).toEqual([{ op: 'error', code: 'limit_exceeded', message: expect.any(String) }])

    const sse = await sseAttempt(`${h.url}/v1/apps/${app.appId}/sse?channels=a`)
    expectError(sse as any, 'limit_exceeded', 'sse')
    expect(sse.headers.get('retry-after')).toMatch(/^[1-9]\d*$/)

    // a long-poll is a connection while it is held
    const first = await http(h.url, 'GET', `/v1/apps/${app.appId}/poll?channels=a&wait=0`)
    expect(first.status).toBe(200)
    const held = await http(h.url, 'GET', `/v1/apps/${app.appId}/poll?channels=a&wait=5&cursor=${encodeURIComponent(first.json.cursor)}`)
    expectError(held, 'limit_exceeded', 'poll')
    expect(held.headers.get('retry-after')).toMatch(/^[1-9]\d*$/)

    // another app is not affected
    const other = await createApp(h)
    await connect(ws(other))

    // one leaves: one more may come in, and only one
    clients[0]!.close()
    await clients[0]!.closed
    await until(async () => (await wsAttempt(ws(app), { closeAfterMs: 300 })).code === 0, 10_000, 'a free slot')
    const ok = await connect(ws(app))
    expect(await ok.request({ op: 'ping' })).toMatchObject({ op: 'pong' })
    expect((await wsAttempt(ws(app))).code).toBe(CloseCodes.rateLimited)
  })

  it('does not count refused attempts: a burst of 200 refused connections leaves the 5 members working', async () => {
    const app = await createApp(h, { maxConnections: 5 })
    const members: WsClient[] = []
    for (let i = 0; i < 5; i++) members.push(await connect(ws(app)))
    const outcomes = await Promise.all(Array.from({ length: 200 }, () => wsAttempt(ws(app))))
    expect(new Set(outcomes.map((o) => o.code))).toEqual(new Set([CloseCodes.rateLimited]))
    for (const m of members) await m.request({ op: 'subscribe', channel: 'still-here' })
    await publish(h, app, { channel: 'still-here', data: 1 })
    for (const m of members) await m.next((f) => f.op === 'message')
    await expectAlive(h)
  })
})

describe('publish rate', () => {
  it('answers 429 rate_limited with Retry-After over REST and publishes nothing past the limit', async () => {
    const app = await createApp(h, { publishRatePerSecond: 5 })
    const results = await Promise.all(
      Array.from({ length: 40 }, (_, i) =>
        http(h.url, 'POST', `/v1/apps/${app.appId}/messages`, {
          headers: { authorization: app.basic, 'content-type': 'application/json' },
          body: JSON.stringify({ channel: 'flood', data: i }),
        }),
      ),
    )
    const ok = results.filter((r) => r.status === 200)
    const limited = results.filter((r) => r.status === 429)
    expect(ok.length + limited.length).toBe(40)
    expect(ok.length).toBeGreaterThanOrEqual(5)
    expect(ok.length).toBeLessThan(40)
    for (const r of limited) {
      expectError(r, 'rate_limited')
      expect(Number(r.headers.get('retry-after'))).toBeGreaterThanOrEqual(1)
    }
    const hist = await history(h, app, 'flood')
    expect(hist.messages.length).toBe(ok.length)
    expect(hist.messages.map((m) => m.seq)).toEqual(ok.map((_, i) => i + 1))
    const okData = results.flatMap((r, i) => (r.status === 200 ? [i] : []))
    expect(hist.messages.map((m) => m.data).sort((x, y) => x - y)).toEqual(okData)
  })

  it('refuses a batch past the rate as a whole', async () => {
    const app = await createApp(h, { publishRatePerSecond: 5 })
    const res = await publish(h, app, { messages: Array.from({ length: 6 }, (_, i) => ({ channel: 'batch', data: i })) })
    // A batch larger than one second's allowance can never fit: bad_request (split it), not a 429 to retry.
    expect(res.status).toBe(400)
    expect(res.body.error.code).toBe('bad_request')
    expect((await history(h, app, 'batch')).messages).toEqual([])
  })

  it('answers rate_limited error frames over WebSocket and the connection stays usable', async () => {
    const app = await createApp(h, { publishRatePerSecond: 5 })
    const c = await connect(ws(app, await signToken(app, { sub: 'p', cap: { '*': ['publish', 'subscribe', 'history'] } })))
    const replies = await Promise.all(Array.from({ length: 30 }, (_, i) => c.request({ op: 'publish', channel: 'wsflood', data: i })))
    const published = replies.filter((r) => r.op === 'published')
    const limited = replies.filter((r) => r.op === 'error')
    expect(published.length).toBeGreaterThanOrEqual(5)
    expect(limited.length).toBeGreaterThan(0)
    for (const r of limited) expect(r).toMatchObject({ code: 'rate_limited' })
    const hist = await c.request({ op: 'history', channel: 'wsflood' })
    expect(hist.messages.map((m: any) => m.data)).toEqual(published.map((p) => replies.indexOf(p)))
    expect(await c.request({ op: 'ping' })).toMatchObject({ op: 'pong' })
  })
})

describe('sizes', () => {
  it('answers too_large for a message past maxMessageBytes and for a body past 8 MiB', async () => {
    const app = await createApp(h, { maxMessageBytes: 1024 })
    const big = await publish(h, app, { channel: 'big', data: 'x'.repeat(2000) })
    expect(big.status).toBe(413)
    expect(big.body.error.code).toBe('too_large')
    const inBatch = await publish(h, app, {
      messages: [
        { channel: 'big', data: 1 },
        { channel: 'big', data: 'x'.repeat(2000) },
      ],
    })
    expect(inBatch.status).toBe(413)
    const huge = await http(h.url, 'POST', `/v1/apps/${app.appId}/messages`, {
      headers: { authorization: app.basic, 'content-type': 'application/json' },
      body: JSON.stringify({ channel: 'big', data: 'x'.repeat(9 * 1024 * 1024) }),
    })
    expectError(huge, 'too_large', 'body > 8 MiB')
    const tooMany = await publish(h, app, { messages: Array.from({ length: 101 }, () => ({ channel: 'big', data: 1 })) })
    expect(tooMany.status).toBe(400)
    expect((await history(h, app, 'big')).messages).toEqual([])
  })

  it(`closes a WebSocket frame past HERALD_MAX_FRAME_BYTES with ${CloseCodes.frameTooLarge}`, async () => {
    const app = await createApp(h)
    const c = await connect(ws(app))
    c.send(JSON.stringify({ op: 'ping', pad: 'x'.repeat(5000) }))
    expect((await c.closed).code).toBe(CloseCodes.frameTooLarge)
  })
})

describe('per connection', () => {
  it('refuses a subscription past HERALD_MAX_SUBSCRIPTIONS_PER_CONNECTION with limit_exceeded', async () => {
    const app = await createApp(h)
    const c = await connect(ws(app))
    for (const ch of ['s1', 's2', 's3']) expect(await c.request({ op: 'subscribe', channel: ch })).toMatchObject({ op: 'subscribed' })
    expect(await c.request({ op: 'subscribe', channel: 's4' })).toMatchObject({ op: 'error', code: 'limit_exceeded' })
    // unsubscribing frees a slot
    await c.request({ op: 'unsubscribe', channel: 's1' })
    expect(await c.request({ op: 'subscribe', channel: 's4' })).toMatchObject({ op: 'subscribed' })
    // SSE and poll take the channels in one request: too many is a bad request
    expectError((await sseAttempt(`${h.url}/v1/apps/${app.appId}/sse?channels=a,b,c,d`)) as any, 'bad_request', 'sse')
    expectError(await http(h.url, 'GET', `/v1/apps/${app.appId}/poll?channels=a,b,c,d&wait=0`), 'bad_request', 'poll')
  })

  it(`closes a connection with more than 256 frames in flight with ${CloseCodes.rateLimited}`, async () => {
    const app = await createApp(h)
    const c = await connect(ws(app))
    const socket = (c.ws as any)._socket as import('node:net').Socket
    socket.cork()
    for (let i = 0; i < 3000; i++) c.send({ op: 'members', channel: `presence-${i}` })
    socket.uncork()
    expect((await c.closed).code).toBe(CloseCodes.rateLimited)
    await expectAlive(h)
    // others are fine
    const d = await connect(ws(app))
    expect(await d.request({ op: 'ping' })).toMatchObject({ op: 'pong' })
  })
})

describe('admin sign-in brute force', () => {
  let own: HeraldProcess
  afterAll(async () => {
    await own?.stop()
  })

  it('answers 429 with Retry-After after 10 failures from one address', async () => {
    own = await startHerald()
    const statuses: number[] = []
    for (let i = 0; i < 10; i++) statuses.push((await http(own.url, 'GET', '/admin/v1/apps', { headers: { authorization: `Bearer guess-${i}` } })).status)
    expect(statuses).toEqual(Array(10).fill(401))
    const blocked = await http(own.url, 'GET', '/admin/v1/apps', { headers: { authorization: 'Bearer guess-11' } })
    expectError(blocked, 'rate_limited')
    expect(Number(blocked.headers.get('retry-after'))).toBeGreaterThanOrEqual(1)
    expect(Number(blocked.headers.get('retry-after'))).toBeLessThanOrEqual(60)
    // while blocked, even the right token is not tried (no oracle for the attacker)
    const right = await http(own.url, 'GET', '/admin/v1/apps', { headers: { authorization: `Bearer ${own.adminToken}` } })
    expect(right.status).toBe(429)
    // the public API is not blocked
    expect((await http(own.url, 'GET', '/healthz')).status).toBe(200)
  })
})

describe('slow requests', () => {
  it('does not hold a connection forever for a request body that never arrives (requestTimeout)', async () => {
    const app = await createApp(h)
    // a stream and a WebSocket opened before: they must outlive the request timeout
    const ac = new AbortController()
    const stream = await fetch(`${h.url}/v1/apps/${app.appId}/sse?channels=long`, { signal: ac.signal })
    expect(stream.status).toBe(200)
    let sseText = ''
    const reading = (async () => {
      const reader = stream.body!.getReader()
      for (;;) {
        const { value, done } = await reader.read()
        if (done) return
        sseText += Buffer.from(value).toString('utf8')
      }
    })().catch(() => {})
    const ws = await connect(`${h.wsUrl}/v1/apps/${app.appId}/ws`)
    await ws.request({ op: 'subscribe', channel: 'long' })
    const { connect: tcp } = await import('node:net')
    const socket = tcp(h.port, '127.0.0.1')
    let reply = ''
    socket.on('data', (d) => (reply += d))
    const closed = new Promise<void>((resolve) => socket.on('close', () => resolve()))
    socket.on('error', () => {})
    await new Promise<void>((resolve) => socket.once('connect', () => resolve()))
    socket.write(
      `POST /v1/apps/${app.appId}/messages HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Type: application/json\r\nContent-Length: 1000\r\nAuthorization: ${app.basic}\r\n\r\n{"channel":`,
    )
    // Node checks request timeouts every 30 s; the node allows 60 s for a whole request
    let gaveUp = false
    const timer = setTimeout(() => {
      gaveUp = true
      socket.destroy()
    }, 150_000)
    await closed
    clearTimeout(timer)
    expect(gaveUp, 'the server still held the half-sent request after 150 s').toBe(false)
    expect(reply === '' || /^HTTP\/1\.1 408/.test(reply), reply.slice(0, 200)).toBe(true)
    // the SSE stream and the WebSocket, older than the timeout, still deliver
    expect((await publish(h, app, { channel: 'long', data: 'still here' })).status).toBe(200)
    await ws.next((f) => f.op === 'message' && f.data === 'still here')
    await until(() => sseText.includes('"data":"still here"'), 10_000, 'the SSE stream to deliver')
    ac.abort()
    await reading
    await expectAlive(h)
  }, 170_000)
})
