import { decodeCursor, encodeCursor } from '@herald/protocol'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { eventually, signToken, startTestNode, type TestNode } from './stream-fixture.js'

let t: TestNode

interface Reply {
  status: number
  headers: Headers
  body: {
    cursor: string
    messages: Array<{ channel: string; seq: number; epoch: string; data: unknown }>
    recovered?: Record<string, false>
    error?: { code: string }
  }
}

async function poll(appId: string, query: string, signal?: AbortSignal): Promise<Reply> {
  const res = await fetch(`${t.url}/v1/apps/${appId}/poll?${query}`, signal ? { signal } : {})
  return { status: res.status, headers: res.headers, body: (await res.json()) as Reply['body'] }
}

beforeAll(async () => {
  t = await startTestNode({ HERALD_MAX_SUBSCRIPTIONS_PER_CONNECTION: '3' })
})

afterAll(async () => {
  await t?.stop()
})

describe('poll: first poll and plain polls', () => {
  it('answers a first poll at once at the heads, with rewind the last N of each channel', async () => {
    const app = await t.createApp()
    await t.publish(app, { messages: [1, 2, 3].map((n) => ({ channel: 'a', data: n })) })
    const first = await poll(app.appId, 'channels=a,b&wait=30')
    expect(first.status).toBe(200)
    expect(first.body.messages).toEqual([])
    const positions = decodeCursor(first.body.cursor)!
    expect(Object.keys(positions).sort()).toEqual(['a', 'b'])
    expect(positions.a!.seq).toBe(3)
    expect(positions.b!.seq).toBe(0)
    const rewound = await poll(app.appId, 'channels=a,b&rewind=2')
    expect(rewound.body.messages.map((m) => m.seq)).toEqual([2, 3])
    expect(decodeCursor(rewound.body.cursor)!.a!.seq).toBe(3)
  })

  it('wait=0 answers at once, with the messages past the cursor or none', async () => {
    const app = await t.createApp()
    const first = await poll(app.appId, 'channels=w')
    const empty = await poll(app.appId, `channels=w&wait=0&cursor=${first.body.cursor}`)
    expect(empty.body).toEqual({ cursor: first.body.cursor, messages: [] })
    await t.publish(app, { channel: 'w', data: 'x' })
    const one = await poll(app.appId, `channels=w&wait=0&cursor=${first.body.cursor}`)
    expect(one.body.messages.map((m) => m.data)).toEqual(['x'])
    expect(decodeCursor(one.body.cursor)!.w!.seq).toBe(1)
  })

  it('says recovered:false with the current position when the cursor fell out of the window or the epoch changed', async () => {
    const app = await t.createApp({ historySize: 3 })
    await t.publish(app, { channel: 'h', data: 1 })
    const first = await poll(app.appId, 'channels=h')
    await t.publish(app, { messages: [2, 3, 4, 5, 6].map((n) => ({ channel: 'h', data: n })) })
    const stale = await poll(app.appId, `channels=h&cursor=${first.body.cursor}`)
    expect(stale.body.recovered).toEqual({ h: false })
    expect(stale.body.messages).toEqual([])
    expect(decodeCursor(stale.body.cursor)!.h!.seq).toBe(6)
    const otherEpoch = encodeCursor({ h: { epoch: 'e_gone', seq: 2 } })
    const reset = await poll(app.appId, `channels=h&wait=0&cursor=${otherEpoch}`)
    expect(reset.body.recovered).toEqual({ h: false })
    expect(decodeCursor(reset.body.cursor)!.h).toEqual(decodeCursor(stale.body.cursor)!.h)
  })

  it('refuses like every transport: 404, 401, 403, 400', async () => {
    const app = await t.createApp({ anonymousSubscribe: false })
    expect((await poll('app_nope', 'channels=a')).status).toBe(404)
    const bad = await poll(app.appId, 'channels=a&token=x.y.z')
    expect([bad.status, bad.body.error?.code]).toEqual([401, 'unauthorized'])
    expect((await poll(app.appId, 'channels=a')).status).toBe(403)
    const token = await signToken(app, { cap: { '*': ['subscribe'] } })
    expect((await poll(app.appId, `channels=a&token=${token}&cursor=!!`)).body.error?.code).toBe('bad_request')
    expect((await poll(app.appId, `channels=a&token=${token}&wait=31`)).status).toBe(400)
    expect((await poll(app.appId, `channels=a,b,c,d&token=${token}`)).status).toBe(400)
    expect((await poll(app.appId, `channels=&token=${token}`)).status).toBe(400)
    expect((await poll(app.appId, `channels=presence-x&token=${token}`)).status).toBe(403)
  })
})

describe('poll: held requests', () => {
  it('answers a held poll when a message arrives, not at the end of the wait', async () => {
    const app = await t.createApp()
    const first = await poll(app.appId, 'channels=l1,l2')
    const held = poll(app.appId, `channels=l1,l2&wait=30&cursor=${first.body.cursor}`)
    let answered = false
    void held.then(() => (answered = true))
    await eventually(() => t.node.ctx.engine.hub.subscriberCount(app.appId, 'l2') === 1, 10_000, 'the poll to be held')
    expect(t.node.ctx.engine.hub.sessionCount(app.appId)).toBe(1)
    expect(answered).toBe(false)
    await t.publish(app, { channel: 'l2', data: 'wake' })
    // The wait is 30 s and the test's timeout 20 s: only the publish can answer it.
    const reply = await held
    expect(reply.body.messages.map((m) => [m.channel, m.data])).toEqual([['l2', 'wake']])
    expect(decodeCursor(reply.body.cursor)).toMatchObject({ l1: { seq: 0 }, l2: { seq: 1 } })
    expect(t.node.ctx.engine.hub.sessionCount(app.appId)).toBe(0)
    expect(t.node.ctx.engine.hub.subscriberCount(app.appId, 'l2')).toBe(0)
  })

  it('answers with no messages and the same cursor after `wait` seconds', async () => {
    const app = await t.createApp()
    const first = await poll(app.appId, 'channels=q')
    const reply = await poll(app.appId, `channels=q&wait=1&cursor=${first.body.cursor}`)
    expect(reply.body).toEqual({ cursor: first.body.cursor, messages: [] })
  })

  it('frees a held poll at once when the client goes away', async () => {
    const app = await t.createApp()
    const first = await poll(app.appId, 'channels=g')
    const controller = new AbortController()
    const held = poll(app.appId, `channels=g&cursor=${first.body.cursor}`, controller.signal).catch(() => 'aborted')
    await eventually(() => t.node.ctx.engine.hub.sessionCount(app.appId) === 1, 10_000, 'the poll to be held')
    controller.abort()
    expect(await held).toBe('aborted')
    await eventually(
      () => t.node.ctx.engine.hub.sessionCount(app.appId) === 0 && t.node.ctx.engine.hub.subscriberCount(app.appId, 'g') === 0,
      10_000,
      'the poll to be freed',
    )
  })

  it('bounds held polls by maxConnections (429 with Retry-After); plain polls still answer', async () => {
    const app = await t.createApp({ maxConnections: 1 })
    const first = await poll(app.appId, 'channels=m')
    const held = poll(app.appId, `channels=m&cursor=${first.body.cursor}`)
    await eventually(() => t.node.ctx.engine.hub.sessionCount(app.appId) === 1, 10_000, 'the poll to be held')
    const refused = await poll(app.appId, `channels=m&cursor=${first.body.cursor}`)
    expect(refused.status).toBe(429)
    expect(refused.body.error?.code).toBe('limit_exceeded')
    expect(refused.headers.get('retry-after')).toMatch(/^\d+$/)
    expect((await poll(app.appId, `channels=m&wait=0&cursor=${first.body.cursor}`)).status).toBe(200)
    await t.publish(app, { channel: 'm', data: 1 })
    expect((await held).body.messages).toHaveLength(1)
  })

  it('answers a held poll with 401 when its key is revoked, 404 when its app is deleted', async () => {
    const app = await t.createApp()
    const created = await t.admin('POST', `/admin/v1/apps/${app.appId}/keys`, {})
    const token = await signToken({ keyId: created.body.key.keyId, secret: created.body.key.secret })
    const first = await poll(app.appId, `channels=r&token=${token}`)
    const byKey = poll(app.appId, `channels=r&token=${token}&cursor=${first.body.cursor}`)
    const anonymous = poll(app.appId, `channels=r&cursor=${first.body.cursor}`)
    await eventually(() => t.node.ctx.engine.hub.sessionCount(app.appId) === 2, 10_000, 'both polls to be held')
    await t.admin('DELETE', `/admin/v1/apps/${app.appId}/keys/${created.body.key.keyId}`)
    const revoked = await byKey
    expect([revoked.status, revoked.body.error?.code]).toEqual([401, 'unauthorized'])
    await t.admin('DELETE', `/admin/v1/apps/${app.appId}`)
    const gone = await anonymous
    expect([gone.status, gone.body.error?.code]).toEqual([404, 'not_found'])
  })

  it('answers held polls on shutdown', async () => {
    const other = await startTestNode({ HERALD_SHUTDOWN_GRACE_MS: '60000' })
    const app = await other.createApp()
    const first = await fetch(`${other.url}/v1/apps/${app.appId}/poll?channels=s`).then((r) => r.json() as Promise<{ cursor: string }>)
    const held = fetch(`${other.url}/v1/apps/${app.appId}/poll?channels=s&cursor=${first.cursor}`).then(async (r) => ({
      status: r.status,
      body: (await r.json()) as { cursor: string; messages: unknown[] },
    }))
    await eventually(() => other.node.ctx.engine.hub.sessionCount(app.appId) === 1, 10_000, 'the poll to be held')
    await other.stop()
    expect(await held).toEqual({ status: 200, body: { cursor: first.cursor, messages: [] } })
  }, 30_000)
})
