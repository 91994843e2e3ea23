import { createServer, type RequestListener, request, type Server } from 'node:http'
import type { AddressInfo } from 'node:net'
import { getRequestListener } from '@hono/node-server'
import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest'
import { createHttpApp } from './app.js'
import { publishFastPath } from './publish-fast.js'
import { signToken, startTestNode, type TestNode } from './stream-fixture.js'

/**
 * The fast path must answer exactly what the Hono route answers. Two servers over one node:
 * `fast` (the fast path in front of the Hono app, counting what it hands over) and `hono`
 * (the Hono app alone). Every request goes to both; status, the headers a client reads and the
 * body (ids and positions aside) must be equal, and the cases the fast path is for must not
 * reach Hono at all.
 */
let t: TestNode
let fast: Server
let hono: Server
let handedOver = 0
let app: Awaited<ReturnType<TestNode['createApp']>>
let limited: Awaited<ReturnType<TestNode['createApp']>>

const listen = (listener: RequestListener) =>
  new Promise<Server>((resolve) => {
    const s = createServer(listener)
    s.listen(0, '127.0.0.1', () => resolve(s))
  })
const urlOf = (s: Server) => `http://127.0.0.1:${(s.address() as AddressInfo).port}`

beforeAll(async () => {
  t = await startTestNode()
  app = await t.createApp()
  limited = await t.createApp({ publishRatePerSecond: 1 })
  const honoApp = createHttpApp(t.node.ctx, { verifyAdmin: () => false, protocols: [] })
  const honoListener = getRequestListener(honoApp.fetch)
  fast = await listen(
    publishFastPath(t.node.ctx, (req, res) => {
      handedOver++
      return honoListener(req, res)
    }),
  )
  hono = await listen(honoListener)
})

afterAll(async () => {
  for (const s of [fast, hono]) await new Promise((r) => s?.close(r))
  await t?.stop()
})

interface Case {
  path?: string
  headers?: Record<string, string>
  body: string | (() => ReadableStream<Uint8Array>)
}

async function send(server: Server, c: Case, auth: string) {
  const body = typeof c.body === 'string' ? c.body : c.body()
  const res = await fetch(urlOf(server) + (c.path ?? `/v1/apps/${app.appId}/messages`), {
    method: 'POST',
    headers: { authorization: auth, 'content-type': 'application/json', ...c.headers },
    body,
    ...(typeof c.body === 'string' ? {} : { duplex: 'half' }),
  } as RequestInit)
  const text = await res.text()
  return {
    status: res.status,
    type: res.headers.get('content-type'),
    retryAfter: res.headers.get('retry-after'),
    body: text.replace(/"(id|epoch)":"[^"]*"/g, '"$1":"…"').replace(/"seq":\d+/g, '"seq":0'),
  }
}

/** Sends `c` to both servers; returns the fast server's answer and whether it reached Hono there. */
async function both(c: Case, auth = app.basic) {
  const before = handedOver
  const a = await send(fast, c, auth)
  const viaHono = handedOver > before
  const b = await send(hono, c, auth)
  expect(a).toEqual(b)
  return { ...a, viaHono }
}

const one = (o: unknown) => JSON.stringify(o)

describe('publish fast path: same answers as the Hono route', () => {
  it('takes a server-to-server publish (Basic or JWT) and answers it as the route does', async () => {
    const r = await both({ body: one({ channel: 'fast-a', data: { n: 1 } }) })
    expect(r).toMatchObject({ status: 200, type: 'application/json', viaHono: false })
    expect(JSON.parse(r.body)).toEqual({ messages: [{ channel: 'fast-a', id: '…', seq: 0, epoch: '…' }] })

    const jwt = 'Bearer ' + (await signToken(app, { cap: { '*': ['publish'] } }))
    expect(await both({ body: one({ channels: ['fast-b', 'fast-c'], data: 1 }) }, jwt)).toMatchObject({ status: 200, viaHono: false })
    expect(await both({ body: one({ messages: [{ channel: 'fast-d', data: 1, name: 'n', id: 'p1' }] }) })).toMatchObject({ status: 200, viaHono: false })
  })

  it('answers refusals of the publish itself with the contract codes: unknown app, credentials, capability, channel, limits', async () => {
    const body = one({ channel: 'fast-a', data: 1 })
    expect(await both({ body, path: '/v1/apps/app_nope/messages' })).toMatchObject({ status: 404, viaHono: false })
    expect(await both({ body }, 'Basic ' + Buffer.from(`${app.keyId}:wrong`).toString('base64'))).toMatchObject({ status: 401, viaHono: false })
    expect(await both({ body }, '')).toMatchObject({ status: 401, viaHono: false })
    const subscribeOnly = 'Bearer ' + (await signToken(app, { cap: { '*': ['subscribe'] } }))
    expect(await both({ body }, subscribeOnly)).toMatchObject({ status: 403, viaHono: false })
    expect(await both({ body: one({ channel: 'bad channel!', data: 1 }) })).toMatchObject({ status: 400, viaHono: false })
    expect(await both({ body: one({ channels: ['x', 'x'], data: 1 }) })).toMatchObject({ status: 400, viaHono: false })
    // A batch larger than the rate: refused whole (400, split it).
    const path = `/v1/apps/${limited.appId}/messages`
    expect(await both({ body: one({ messages: [1, 2].map((n) => ({ channel: 'rl', data: n })) }), path }, limited.basic)).toMatchObject({
      status: 400,
      viaHono: false,
    })
  })

  it('answers 429 with Retry-After past the rate (the bucket on a frozen clock: no token comes back meanwhile)', async () => {
    vi.useFakeTimers({ toFake: ['performance'] })
    try {
      const rated = await t.createApp({ publishRatePerSecond: 1 })
      const path = `/v1/apps/${rated.appId}/messages`
      const body = one({ channel: 'rl', data: 1 })
      expect((await send(fast, { body, path }, rated.basic)).status).toBe(200)
      const r = await both({ body, path }, rated.basic)
      expect(r).toMatchObject({ status: 429, viaHono: false })
      expect(Number(r.retryAfter)).toBeGreaterThan(0)
    } finally {
      vi.useRealTimers()
    }
  })

  it('hands to Hono what the schema must answer, with the body it already read', async () => {
    expect(await both({ body: '{"channel":"a","data":1' })).toMatchObject({ status: 400, viaHono: true })
    expect(await both({ body: one({ channel: 'a' }) })).toMatchObject({ status: 400, viaHono: true })
    expect(await both({ body: one({ channel: 'a', data: 1, extra: true }) })).toMatchObject({ status: 400, viaHono: true })
    expect(await both({ body: one({ messages: [] }) })).toMatchObject({ status: 400, viaHono: true })
    expect(await both({ body: '' })).toMatchObject({ status: 400, viaHono: true })
  })

  it('leaves browser requests, other media types, chunked bodies and other routes to Hono', async () => {
    const body = one({ channel: 'fast-e', data: 1 })
    const origin = { origin: 'http://example.test' }
    const viaCors = await both({ body, headers: origin })
    expect(viaCors).toMatchObject({ status: 200, viaHono: true })
    expect(await both({ body, headers: { 'content-type': 'text/plain' } })).toMatchObject({ status: 400, viaHono: true })
    const chunked = () =>
      new ReadableStream<Uint8Array>({
        start(c) {
          c.enqueue(new TextEncoder().encode(body))
          c.close()
        },
      })
    expect(await both({ body: chunked })).toMatchObject({ status: 200, viaHono: true })
    expect(await both({ body, path: `/v1/apps/${app.appId}/messages/` })).toMatchObject({ viaHono: true })
    expect(await both({ body, path: `/v1/apps/${app.appId}/channels/x/messages` })).toMatchObject({ viaHono: true })
  })

  it('refuses a body past the size limit from its Content-Length, before it is sent', async () => {
    const status = await new Promise<number | undefined>((resolve, reject) => {
      const req = request(`${urlOf(fast)}/v1/apps/${app.appId}/messages`, {
        method: 'POST',
        headers: { authorization: app.basic, 'content-type': 'application/json', 'content-length': String(9 * 1024 * 1024) },
      })
      req.on('response', (res) => {
        res.resume()
        resolve(res.statusCode)
        req.destroy()
      })
      req.on('error', reject)
      req.flushHeaders() // headers only: the answer must not wait for the 9 MiB
    })
    expect(status).toBe(413)
  })
})
