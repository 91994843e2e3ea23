import { request as httpRequest } from 'node:http'
import { decodeCursor } from '@herald/protocol'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { eventually, signToken, SseReader, startTestNode, type TestNode } from './stream-fixture.js'

let t: TestNode
const open: SseReader[] = []

async function sse(path: string, headers: Record<string, string> = {}): Promise<SseReader> {
  const r = await SseReader.open(t.url + path, headers)
  open.push(r)
  return r
}

beforeAll(async () => {
  t = await startTestNode({ HERALD_SSE_PING_SECONDS: '0.3', HERALD_MAX_SUBSCRIPTIONS_PER_CONNECTION: '3', HERALD_SEND_BUFFER_BYTES: '65536' })
})

afterAll(async () => {
  for (const r of open) r.close()
  await t?.stop()
})

describe('SSE: refusals before the stream starts are plain HTTP errors', () => {
  it('answers 404, 401, 403, 400 with the contract error body', async () => {
    const app = await t.createApp({ anonymousSubscribe: false })
    const expectError = async (path: string, status: number, code: string, headers: Record<string, string> = {}) => {
      const r = await sse(path, headers)
      expect(r.response.status).toBe(status)
      expect(r.response.headers.get('content-type')).toMatch(/application\/json/)
      expect(((await r.response.json()) as { error: { code: string } }).error.code).toBe(code)
    }
    await expectError(`/v1/apps/app_nope/sse?channels=a`, 404, 'not_found')
    await expectError(`/v1/apps/${app.appId}/sse?channels=a&token=not.a.jwt`, 401, 'unauthorized')
    const expired = await signToken(app, { exp: Math.floor(Date.now() / 1000) - 120, cap: { '*': ['subscribe'] } })
    await expectError(`/v1/apps/${app.appId}/sse?channels=a&token=${expired}`, 401, 'token_expired')
    await expectError(`/v1/apps/${app.appId}/sse?channels=a`, 403, 'forbidden')
    const token = await signToken(app, { cap: { 'chat:*': ['subscribe'] } })
    await expectError(`/v1/apps/${app.appId}/sse?channels=private-x&token=${token}`, 403, 'forbidden')
    await expectError(`/v1/apps/${app.appId}/sse?channels=bad%20name&token=${token}`, 400, 'bad_request')
    await expectError(`/v1/apps/${app.appId}/sse?channels=chat:1,chat:2,chat:3,chat:4&token=${token}`, 400, 'bad_request')
    await expectError(`/v1/apps/${app.appId}/sse?channels=chat:1&token=${token}&lastEventId=%%%`, 400, 'bad_request')
    await expectError(`/v1/apps/${app.appId}/sse?channels=chat:1&token=${token}`, 400, 'bad_request', { 'Last-Event-ID': 'not a cursor' })
    await expectError(`/v1/apps/${app.appId}/sse?channels=chat:1&token=${token}&events=everything`, 400, 'bad_request')
  })

  it('refuses a stream past maxConnections with 429 limit_exceeded and Retry-After', async () => {
    const app = await t.createApp({ maxConnections: 1 })
    const first = await sse(`/v1/apps/${app.appId}/sse?channels=a`)
    expect(first.response.status).toBe(200)
    await first.until(() => first.of('subscribed').length === 1)
    const second = await sse(`/v1/apps/${app.appId}/sse?channels=a`)
    expect(second.response.status).toBe(429)
    expect(second.response.headers.get('retry-after')).toMatch(/^\d+$/)
    expect(((await second.response.json()) as { error: { code: string } }).error.code).toBe('limit_exceeded')
    first.close()
    await eventually(() => t.node.ctx.engine.hub.sessionCount(app.appId) === 0, 10_000, 'the first stream to be freed')
    const third = await sse(`/v1/apps/${app.appId}/sse?channels=a`)
    expect(third.response.status).toBe(200)
  })
})

describe('SSE: the stream', () => {
  it('sends headers, retry first, subscribed per channel, then messages with a cursor of every channel', async () => {
    const app = await t.createApp()
    await t.publish(app, { channel: 'b', data: 0 })
    const r = await sse(`/v1/apps/${app.appId}/sse?channels=a,b`, { origin: 'http://example.test' })
    expect(r.response.status).toBe(200)
    expect(r.response.headers.get('content-type')).toBe('text/event-stream')
    expect(r.response.headers.get('cache-control')).toBe('no-cache')
    expect(r.response.headers.get('x-accel-buffering')).toBe('no')
    expect(r.response.headers.get('access-control-allow-origin')).toBe('http://example.test')
    await r.until(() => r.of('subscribed').length === 2)
    expect(r.lines[0]).toMatch(/^retry: \d+$/)
    const subscribed = r.of('subscribed').map((e) => e.data)
    expect(subscribed.map((s) => s.channel)).toEqual(['a', 'b'])
    expect(subscribed[0]).toMatchObject({ channel: 'a', seq: 0 })
    expect(subscribed[1]).toMatchObject({ channel: 'b', seq: 1 })
    expect(t.node.ctx.engine.hub.sessionCount(app.appId)).toBe(1)

    await t.publish(app, { channel: 'a', name: 'greeting', data: { hello: 1 } })
    await t.publish(app, { channel: 'b', data: 'two' })
    await r.until(() => r.of('message').length === 2)
    const [m1, m2] = r.of('message')
    expect(m1!.data).toMatchObject({ channel: 'a', seq: 1, name: 'greeting', data: { hello: 1 } })
    expect(m2!.data).toMatchObject({ channel: 'b', seq: 2, data: 'two' })
    expect(decodeCursor(m1!.id!)).toEqual({ a: { epoch: m1!.data.epoch, seq: 1 }, b: { epoch: subscribed[1].epoch, seq: 1 } })
    expect(decodeCursor(m2!.id!)).toEqual({ a: { epoch: m1!.data.epoch, seq: 1 }, b: { epoch: m2!.data.epoch, seq: 2 } })
    await r.until(() => r.comments.includes('ping'), 10_000, 'a ping comment')
  })

  it('resumes every channel from Last-Event-ID (header over query), missing nothing and repeating nothing', async () => {
    const app = await t.createApp()
    const r1 = await sse(`/v1/apps/${app.appId}/sse?channels=x,y`)
    await r1.until(() => r1.of('subscribed').length === 2)
    await t.publish(app, {
      messages: [
        { channel: 'x', data: 1 },
        { channel: 'y', data: 1 },
      ],
    })
    await r1.until(() => r1.of('message').length === 2)
    const lastId = r1.of('message')[1]!.id!
    r1.close()
    await eventually(() => t.node.ctx.engine.hub.sessionCount(app.appId) === 0)
    await t.publish(app, {
      messages: [
        { channel: 'x', data: 2 },
        { channel: 'y', data: 2 },
        { channel: 'x', data: 3 },
      ],
    })
    const r2 = await sse(`/v1/apps/${app.appId}/sse?channels=x,y&lastEventId=garbage-is-ignored-when-the-header-is-set`, { 'Last-Event-ID': lastId })
    expect(r2.response.status).toBe(200)
    await r2.until(() => r2.of('message').length === 3)
    expect(r2.of('subscribed').map((e) => e.data.recovered)).toEqual([true, true])
    const got = r2.of('message').map((e) => `${e.data.channel}${e.data.seq}`)
    expect(got.filter((s) => s.startsWith('x'))).toEqual(['x2', 'x3'])
    expect(got.filter((s) => s.startsWith('y'))).toEqual(['y2'])
    await t.publish(app, { channel: 'y', data: 3 })
    await r2.until(() => r2.of('message').length === 4)
    expect(decodeCursor(r2.of('message')[3]!.id!)).toMatchObject({ x: { seq: 3 }, y: { seq: 3 } })
  })

  it('starts channels missing from the cursor at their head, or rewinds them', async () => {
    const app = await t.createApp()
    await t.publish(app, { messages: [1, 2, 3].map((n) => ({ channel: 'p', data: n })) })
    const r = await sse(`/v1/apps/${app.appId}/sse?channels=p&rewind=2`)
    await r.until(() => r.of('message').length === 2)
    expect(r.of('message').map((e) => e.data.seq)).toEqual([2, 3])
    // The subscribed event's id is where the stream starts, so a cut right after it loses nothing.
    expect(decodeCursor(r.of('subscribed')[0]!.id!)).toMatchObject({ p: { seq: 1 } })
  })

  it("uses message names as event types with events=named, except the protocol's own types", async () => {
    const app = await t.createApp()
    const r = await sse(`/v1/apps/${app.appId}/sse?channels=n&events=named`)
    await r.until(() => r.of('subscribed').length === 1)
    await t.publish(app, { channel: 'n', name: 'greeting', data: 1 })
    await t.publish(app, { channel: 'n', name: 'error', data: 2 })
    await t.publish(app, { channel: 'n', data: 3 })
    await r.until(() => r.events.length === 4)
    expect(r.events.slice(1).map((e) => e.event)).toEqual(['greeting', 'message', 'message'])
  })

  it('joins presence on a presence channel and leaves when the client goes away', async () => {
    const app = await t.createApp()
    const token = await signToken(app, { sub: 'alice', info: { name: 'Alice' }, cap: { 'presence-*': ['presence'] } })
    const watcher = await sse(
      `/v1/apps/${app.appId}/sse?channels=presence-room&token=${await signToken(app, { sub: 'bob', cap: { 'presence-*': ['presence'] } })}`,
    )
    await watcher.until(() => watcher.of('subscribed').length === 1)
    const r = await sse(`/v1/apps/${app.appId}/sse?channels=presence-room&token=${token}`)
    await watcher.until(() => watcher.of('presence').some((e) => e.data.member.clientId === 'alice' && e.data.action === 'join'))
    const members = await fetch(`${t.url}/v1/apps/${app.appId}/channels/presence-room/presence`, { headers: { authorization: app.basic } }).then(
      (res) => res.json() as Promise<{ members: Array<{ clientId: string; info?: unknown }> }>,
    )
    expect(members.members).toContainEqual({ clientId: 'alice', info: { name: 'Alice' } })
    r.close()
    await watcher.until(() => watcher.of('presence').some((e) => e.data.member.clientId === 'alice' && e.data.action === 'leave'), 10_000, 'alice to leave')
  })

  it('ends with event: error unauthorized when the key is revoked, and not_found when the app is deleted', async () => {
    const app = await t.createApp()
    const created = await t.admin('POST', `/admin/v1/apps/${app.appId}/keys`, { label: 'second' })
    const key2 = { keyId: created.body.key.keyId, secret: created.body.key.secret }
    const byKey2 = await sse(`/v1/apps/${app.appId}/sse?channels=c&token=${await signToken(key2)}`)
    const anonymous = await sse(`/v1/apps/${app.appId}/sse?channels=c`)
    await byKey2.until(() => byKey2.of('subscribed').length === 1)
    await anonymous.until(() => anonymous.of('subscribed').length === 1)
    expect((await t.admin('DELETE', `/admin/v1/apps/${app.appId}/keys/${key2.keyId}`)).status).toBe(204)
    await byKey2.until(() => byKey2.ended, 10_000, 'the revoked stream to end')
    expect(byKey2.of('error').map((e) => e.data.code)).toEqual(['unauthorized'])
    expect(anonymous.ended).toBe(false)
    expect((await t.admin('DELETE', `/admin/v1/apps/${app.appId}`)).status).toBe(204)
    await anonymous.until(() => anonymous.ended, 10_000, 'the stream of a deleted app to end')
    expect(anonymous.of('error').map((e) => e.data.code)).toEqual(['not_found'])
  })

  it("ends with event: error token_expired 30 s after the token's exp", async () => {
    const app = await t.createApp()
    // Inside the 30 s leeway: accepted now, expired (with leeway) 4 to 5 s from now.
    const token = await signToken(app, { exp: Math.floor(Date.now() / 1000) - 25 })
    const r = await sse(`/v1/apps/${app.appId}/sse?channels=e&token=${token}`)
    expect(r.response.status).toBe(200)
    await r.until(() => r.ended, 15_000, 'the stream to end')
    expect(r.of('error').map((e) => e.data.code)).toEqual(['token_expired'])
    await eventually(() => t.node.ctx.engine.hub.sessionCount(app.appId) === 0)
  })

  it('ends a stream whose client does not read once its pending bytes pass the send buffer', async () => {
    const app = await t.createApp()
    const res = await new Promise<import('node:http').IncomingMessage>((resolve, reject) => {
      const req = httpRequest(`${t.url}/v1/apps/${app.appId}/sse?channels=slow`, resolve)
      req.on('error', reject)
      req.end()
    })
    expect(res.statusCode).toBe(200)
    res.pause()
    const big = 'x'.repeat(60_000)
    const drops = async () => {
      const text = await fetch(`${t.url}/metrics`).then((r) => r.text())
      const line = text.split('\n').find((l) => l.startsWith('herald_slow_consumer_drops_total') && l.includes(app.appId) && l.includes('transport="sse"'))
      return line ? Number(line.split(' ').pop()) : 0
    }
    for (let i = 0; i < 40 && (await drops()) === 0; i++) {
      expect((await t.publish(app, { messages: Array.from({ length: 50 }, () => ({ channel: 'slow', data: big })) })).status).toBe(200)
    }
    expect(await drops()).toBe(1)
    await eventually(() => t.node.ctx.engine.hub.sessionCount(app.appId) === 0, 10_000, 'the slow stream to be freed')
    res.destroy()
  })

  it('frees the stream at once when the client goes away', async () => {
    const app = await t.createApp()
    const r = await sse(`/v1/apps/${app.appId}/sse?channels=gone`)
    await r.until(() => r.of('subscribed').length === 1)
    expect(t.node.ctx.engine.hub.subscriberCount(app.appId, 'gone')).toBe(1)
    r.close()
    await eventually(() => t.node.ctx.engine.hub.sessionCount(app.appId) === 0 && t.node.ctx.engine.hub.subscriberCount(app.appId, 'gone') === 0)
  })
})

describe('SSE: stream lifetime and shutdown', () => {
  it('ends a stream cleanly (no error) after HERALD_SSE_MAX_STREAM_SECONDS, and streams on shutdown', async () => {
    const short = await startTestNode({ HERALD_SSE_MAX_STREAM_SECONDS: '1' })
    try {
      const app = await short.createApp()
      const r = await SseReader.open(`${short.url}/v1/apps/${app.appId}/sse?channels=l`)
      await r.until(() => r.ended, 10_000, 'the stream to be rotated')
      expect(r.of('subscribed')).toHaveLength(1)
      expect(r.of('error')).toHaveLength(0)
    } finally {
      await short.stop()
    }
    // A grace period longer than the test: shutdown must end the stream's socket itself.
    const other = await startTestNode({ HERALD_SHUTDOWN_GRACE_MS: '60000' })
    const app = await other.createApp()
    const r = await SseReader.open(`${other.url}/v1/apps/${app.appId}/sse?channels=s`)
    await r.until(() => r.of('subscribed').length === 1)
    await other.stop()
    await r.until(() => r.ended, 10_000, 'the stream to end on shutdown')
    expect(r.of('error')).toHaveLength(0)
  }, 30_000)
})
