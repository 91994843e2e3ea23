import { createServer, type IncomingMessage, type Server } from 'node:http'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { postWebhook } from './post.js'

let server: Server
let base: string
const received: Array<{ url: string; headers: IncomingMessage['headers']; body: string }> = []

beforeAll(async () => {
  server = createServer((req, res) => {
    let body = ''
    req.on('data', (d) => (body += d))
    req.on('end', () => {
      received.push({ url: req.url ?? '', headers: req.headers, body })
      if (req.url === '/hang') return // never answers
      res.statusCode = req.url === '/fail' ? 500 : 200
      res.end('ok')
    })
  })
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', () => r()))
  base = `http://127.0.0.1:${(server.address() as { port: number }).port}`
})
afterAll(() => {
  server.closeAllConnections()
  server.close()
})

describe('postWebhook', () => {
  it('POSTs the body with the given headers and reports the status', async () => {
    expect(await postWebhook(`${base}/ok`, '{"a":1}', { 'Content-Type': 'application/json', 'X-Pusher-Key': 'k' }, 5000)).toEqual({ status: 200 })
    const got = received.find((r) => r.url === '/ok')!
    expect(got.body).toBe('{"a":1}')
    expect(got.headers['content-type']).toBe('application/json')
    expect(got.headers['x-pusher-key']).toBe('k')
    expect(await postWebhook(`${base}/fail`, '{}', {}, 5000)).toEqual({ status: 500 })
  })

  it('reaches a name that resolves to loopback', async () => {
    expect(await postWebhook(base.replace('127.0.0.1', 'localhost') + '/ok', '{}', {}, 5000)).toEqual({ status: 200 })
  })

  it('gives up on a receiver that does not answer within the timeout', async () => {
    const r = await postWebhook(`${base}/hang`, '{}', {}, 200)
    expect(r).toEqual({ error: 'no answer within 200 ms' })
  })

  it('reports a refused connection as a (retryable) error', async () => {
    const r = await postWebhook('http://127.0.0.1:1/x', '{}', {}, 5000)
    expect(r).toMatchObject({ error: expect.stringMatching(/ECONNREFUSED/) })
    expect('permanent' in r && r.permanent).toBeFalsy()
  })

  it('refuses a link-local address without connecting', async () => {
    expect(await postWebhook('http://169.254.169.254/latest/meta-data', '{}', {}, 5000)).toMatchObject({
      error: expect.stringMatching(/link-local/),
      permanent: true,
    })
    expect(await postWebhook('http://[fe80::1]/x', '{}', {}, 5000)).toMatchObject({ permanent: true })
  })
})
