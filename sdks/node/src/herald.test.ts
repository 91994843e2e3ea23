import { afterEach, describe, expect, it } from 'vitest'
import { Herald } from './herald.js'
import { HeraldError } from './errors.js'
import { drop, hang, json, publishReply, startScriptServer, type Handler, type ScriptServer } from './test-support/server.js'

let server: ScriptServer | undefined
afterEach(async () => {
  await server?.close()
  server = undefined
})

async function setup(script: Handler[], options: { retries?: number; timeoutMs?: number } = {}) {
  server = await startScriptServer(script)
  const herald = new Herald({ url: server.url + '/', appId: 'app_1', keyId: 'key_1', secret: 'sëcret', ...options })
  return { herald, server }
}

const bodyOf = (s: ScriptServer, i: number) => JSON.parse(s.requests[i]!.body) as Record<string, any>

async function caught(p: Promise<unknown>): Promise<HeraldError> {
  const e = await p.then(
    () => undefined,
    (err: unknown) => err,
  )
  expect(e).toBeInstanceOf(HeraldError)
  return e as HeraldError
}

describe('Herald REST calls', () => {
  it('publishes one message with Basic auth and an id made by the SDK', async () => {
    const { herald, server } = await setup([publishReply])
    const result = await herald.publish('chat:a/b', { text: 'hi' }, { name: 'greeting' })
    const req = server.requests[0]!
    expect(req.method).toBe('POST')
    expect(req.url).toBe('/v1/apps/app_1/messages')
    expect(req.headers.authorization).toBe('Basic ' + Buffer.from('key_1:sëcret', 'utf8').toString('base64'))
    expect(req.headers['content-type']).toBe('application/json')
    const body = bodyOf(server, 0)
    expect(body).toEqual({ channel: 'chat:a/b', name: 'greeting', data: { text: 'hi' }, id: expect.stringMatching(/^sdk_[0-9a-f-]{36}$/) })
    expect(result).toEqual({ channel: 'chat:a/b', id: body.id, seq: 1, epoch: 'e_test' })
  })

  it('publishes to a list of channels in the channels form, with the caller id', async () => {
    const { herald, server } = await setup([publishReply])
    const results = await herald.publish(['a', 'b'], 7, { id: 'mine' })
    expect(bodyOf(server, 0)).toEqual({ channels: ['a', 'b'], data: 7, id: 'mine' })
    expect(results.map((r) => [r.channel, r.id])).toEqual([
      ['a', 'mine'],
      ['b', 'mine'],
    ])
  })

  it('publishes a batch, giving each message without an id its own id', async () => {
    const { herald, server } = await setup([publishReply])
    const results = await herald.publishBatch([
      { channel: 'a', data: 1 },
      { channel: 'b', data: 2, name: 'n', id: 'given' },
      { channel: 'c', data: null },
    ])
    const sent = bodyOf(server, 0).messages as Array<Record<string, unknown>>
    expect(sent[0]).toEqual({ channel: 'a', data: 1, id: expect.stringMatching(/^sdk_/) })
    expect(sent[1]).toEqual({ channel: 'b', data: 2, name: 'n', id: 'given' })
    expect(sent[2]!.data).toBeNull()
    expect(new Set(sent.map((m) => m.id)).size).toBe(3)
    expect(results).toHaveLength(3)
  })

  it('reads history, members and channels with encoded paths and queries', async () => {
    const { herald, server } = await setup([
      json(200, { epoch: 'e_1', messages: [] }),
      json(200, { epoch: 'e_1', messages: [] }),
      json(200, { members: [{ clientId: 'u1' }], count: 1 }),
      json(200, { channels: [{ name: 'chat:1', subscribers: 2 }] }),
      json(200, { channels: [] }),
    ])
    expect(await herald.history('chat:a/b', { limit: 5, after: 3 })).toEqual({ epoch: 'e_1', messages: [] })
    await herald.history('news')
    expect((await herald.members('presence-room')).count).toBe(1)
    expect((await herald.channels({ prefix: 'chat:' })).channels[0]!.name).toBe('chat:1')
    await herald.channels()
    expect(server.requests.map((r) => `${r.method} ${r.url}`)).toEqual([
      'GET /v1/apps/app_1/channels/chat%3Aa%2Fb/messages?limit=5&after=3',
      'GET /v1/apps/app_1/channels/news/messages',
      'GET /v1/apps/app_1/channels/presence-room/presence',
      'GET /v1/apps/app_1/channels?prefix=chat%3A',
      'GET /v1/apps/app_1/channels',
    ])
  })

  it('keeps connections alive between calls (Node global fetch)', async () => {
    const { herald, server } = await setup([publishReply])
    for (let i = 0; i < 12; i++) await herald.publish('chat', i)
    expect(server.requests).toHaveLength(12)
    // undici releases a socket to its pool a tick after the body ends, so a call made right
    // away may open a second one; after that the open sockets are reused.
    expect(server.connections()).toBeLessThanOrEqual(2)
  })
})

describe('Herald retries', () => {
  it('retries a dropped connection and a 5xx with the same message id', async () => {
    const { herald, server } = await setup([drop, json(503, { error: { code: 'internal', message: 'busy' } }), publishReply])
    const result = await herald.publish('chat', 'x')
    expect(server.requests).toHaveLength(3)
    const ids = [0, 1, 2].map((i) => bodyOf(server, i).id)
    expect(new Set(ids).size).toBe(1)
    expect(result.id).toBe(ids[0])
  })

  it('retries the same batch ids', async () => {
    const { herald, server } = await setup([drop, publishReply])
    await herald.publishBatch([
      { channel: 'a', data: 1 },
      { channel: 'b', data: 2 },
    ])
    expect(bodyOf(server, 1).messages).toEqual(bodyOf(server, 0).messages)
  })

  it('waits for Retry-After on 429 and then succeeds', async () => {
    const { herald, server } = await setup([json(429, { error: { code: 'rate_limited', message: 'slow down' } }, { 'retry-after': '1' }), publishReply])
    const result = await herald.publish('chat', 1)
    expect(result.seq).toBe(1)
    expect(server.requests).toHaveLength(2)
  })

  it('gives up after `retries` extra attempts with a typed error carrying retryAfter', async () => {
    const { herald, server } = await setup([json(429, { error: { code: 'rate_limited', message: 'slow down' } }, { 'retry-after': '0' })], { retries: 2 })
    const e = await caught(herald.publish('chat', 1))
    expect(server.requests).toHaveLength(3)
    expect(e).toMatchObject({ code: 'rate_limited', status: 429, message: 'slow down', retryAfter: 0 })
  })

  it('does not retry other 4xx errors', async () => {
    const { herald, server } = await setup([json(403, { error: { code: 'forbidden', message: 'no publish on chat' } })])
    const e = await caught(herald.publish('chat', 1))
    expect(server.requests).toHaveLength(1)
    expect(e).toMatchObject({ code: 'forbidden', status: 403, message: 'no publish on chat' })
    expect(e.retryAfter).toBeUndefined()
  })

  it('maps a non-JSON error body by status', async () => {
    const { herald } = await setup([(_r, res) => res.writeHead(404).end('nope')])
    const e = await caught(herald.history('chat'))
    expect(e).toMatchObject({ code: 'not_found', status: 404 })
  })

  it('fails with code network when the service is unreachable', async () => {
    const { herald, server } = await setup([drop], { retries: 1 })
    const e = await caught(herald.publish('chat', 1))
    expect(server.requests).toHaveLength(2)
    expect(e).toMatchObject({ code: 'network', status: 0 })
    expect(e.message).toMatch(/^network error: .*\(\w+/)
  })

  it('times out each attempt and retries it', async () => {
    const { herald, server } = await setup([hang], { retries: 1, timeoutMs: 300 })
    const e = await caught(herald.publish('chat', 1))
    expect(e).toMatchObject({ code: 'timeout', status: 0 })
    expect(server.requests).toHaveLength(2)
    expect(bodyOf(server, 1).id).toBe(bodyOf(server, 0).id)
  })

  it('rejects bad options at once', () => {
    expect(() => new Herald({ url: '', appId: 'a', keyId: 'k', secret: 's' })).toThrow(/url/)
    expect(() => new Herald({ url: 'http://x', appId: 'a', keyId: 'k', secret: 's', retries: -1 })).toThrow(/retries/)
  })
})
