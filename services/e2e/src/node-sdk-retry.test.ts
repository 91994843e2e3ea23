import { Herald } from '@herald/node'
import { createServer, type Server } from 'node:http'
import type { AddressInfo, Socket } from 'node:net'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { createApp, startHerald, type HeraldProcess } from './support/herald.js'

interface Seen {
  method: string
  url: string
  body: string
  /** What the service answered (also for requests whose answer the proxy threw away). */
  status: number
  retryAfter: string | null
  reply: string
}

/**
 * A real HTTP proxy in front of the service. `dropAnswer(n)` says whether the n-th request
 * (0-based) is forwarded but its answer thrown away by destroying the client's socket.
 */
async function startProxy(target: string, dropAnswer: (n: number) => boolean) {
  const seen: Seen[] = []
  const sockets = new Set<Socket>()
  const server: Server = createServer((req, res) => {
    const chunks: Buffer[] = []
    req.on('data', (c: Buffer) => chunks.push(c))
    req.on('end', async () => {
      const n = seen.length
      const body = Buffer.concat(chunks).toString('utf8')
      const entry: Seen = { method: req.method!, url: req.url!, body, status: 0, retryAfter: null, reply: '' }
      seen.push(entry)
      const headers: Record<string, string> = {}
      for (const name of ['authorization', 'content-type', 'accept']) if (req.headers[name]) headers[name] = String(req.headers[name])
      const upstream = await fetch(target + req.url, { method: req.method, headers, body: req.method === 'GET' ? undefined : body })
      entry.status = upstream.status
      entry.retryAfter = upstream.headers.get('retry-after')
      entry.reply = await upstream.text()
      if (dropAnswer(n)) {
        req.socket.destroy()
        return
      }
      const out: Record<string, string> = { 'content-type': upstream.headers.get('content-type') ?? 'application/json' }
      if (entry.retryAfter) out['retry-after'] = entry.retryAfter
      res.writeHead(upstream.status, out).end(entry.reply)
    })
  })
  server.on('connection', (s) => {
    sockets.add(s)
    s.on('close', () => sockets.delete(s))
  })
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve))
  return {
    url: `http://127.0.0.1:${(server.address() as AddressInfo).port}`,
    seen,
    close: () =>
      new Promise<void>((resolve) => {
        for (const s of sockets) s.destroy()
        server.close(() => resolve())
      }),
  }
}

let h: HeraldProcess
const closers: Array<() => Promise<void>> = []

beforeAll(async () => {
  h = await startHerald()
})

afterAll(async () => {
  for (const close of closers) await close()
  await h?.stop()
})

describe('@herald/node retries against a running service', () => {
  it('delivers a publish whose response was lost exactly once, and returns the first seq', async () => {
    const app = await createApp(h)
    const proxy = await startProxy(h.url, (n) => n === 0)
    closers.push(proxy.close)
    const herald = new Herald({ url: proxy.url, appId: app.appId, keyId: app.keyId, secret: app.secret })
    const direct = new Herald({ url: h.url, appId: app.appId, keyId: app.keyId, secret: app.secret })

    await direct.publish('orders', 'before')
    const result = await herald.publish('orders', { order: 42 })

    expect(proxy.seen).toHaveLength(2)
    const [first, retry] = proxy.seen as [Seen, Seen]
    expect(first.status).toBe(200) // the service did publish; only the answer was lost
    expect(JSON.parse(retry.body).id).toBe(JSON.parse(first.body).id)
    const firstReply = JSON.parse(first.reply) as { messages: Array<{ seq: number; id: string; epoch: string }> }
    expect(result).toEqual({ channel: 'orders', ...firstReply.messages[0] })
    expect(result.seq).toBe(2)

    await direct.publish('orders', 'after')
    const { messages } = await direct.history('orders')
    expect(messages.map((m) => m.data)).toEqual(['before', { order: 42 }, 'after'])
    expect(messages.map((m) => m.seq)).toEqual([1, 2, 3])
  })

  it('retries a batch whose response was lost with the same ids, publishing each message once', async () => {
    const app = await createApp(h)
    const proxy = await startProxy(h.url, (n) => n === 0)
    closers.push(proxy.close)
    const herald = new Herald({ url: proxy.url, appId: app.appId, keyId: app.keyId, secret: app.secret })

    const results = await herald.publishBatch([
      { channel: 'b1', data: 1 },
      { channel: 'b2', data: 2 },
    ])
    expect(proxy.seen).toHaveLength(2)
    expect(JSON.parse(proxy.seen[1]!.body)).toEqual(JSON.parse(proxy.seen[0]!.body))
    expect(results.map((r) => r.seq)).toEqual([1, 1])
    expect((await herald.history('b1')).messages).toHaveLength(1)
    expect((await herald.history('b2')).messages).toHaveLength(1)
  })

  it('waits out 429 Retry-After and gets every publish through', async () => {
    const app = await createApp(h, { publishRatePerSecond: 1 })
    const proxy = await startProxy(h.url, () => false)
    closers.push(proxy.close)
    const herald = new Herald({ url: proxy.url, appId: app.appId, keyId: app.keyId, secret: app.secret })

    const results = await Promise.all([herald.publish('rl', 'a'), herald.publish('rl', 'b'), herald.publish('rl', 'c')])
    expect(results.map((r) => r.seq).sort()).toEqual([1, 2, 3])

    const limited = proxy.seen.filter((s) => s.status === 429)
    expect(limited.length).toBeGreaterThanOrEqual(2)
    expect(proxy.seen).toHaveLength(3 + limited.length)
    for (const s of limited) {
      expect(Number(s.retryAfter)).toBeGreaterThanOrEqual(1)
      expect(JSON.parse(s.reply)).toMatchObject({ error: { code: 'rate_limited' } })
    }
    // each message went through once, whatever its number of attempts
    const ids = new Set(proxy.seen.map((s) => JSON.parse(s.body).id))
    expect(ids.size).toBe(3)
    expect((await herald.history('rl')).messages.map((m) => m.data).sort()).toEqual(['a', 'b', 'c'])
  })
})
