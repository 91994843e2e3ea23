import { decodeCursor } from '@herald/protocol'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { createApp, publish, signToken, startHerald, type CreatedApp, type HeraldProcess } from './support/herald.js'
import { until } from './support/ws-client.js'

/** Long-poll and poll against a real Herald process. */

let h: HeraldProcess

interface PollBody {
  cursor: string
  messages: Array<{ channel: string; id: string; seq: number; epoch: string; data: unknown }>
  recovered?: Record<string, false>
  error?: { code: string; message: string }
}

async function poll(app: CreatedApp, query: string): Promise<{ status: number; body: PollBody; headers: Headers }> {
  const res = await fetch(`${h.url}/v1/apps/${app.appId}/poll?${query}`)
  return { status: res.status, body: (await res.json()) as PollBody, headers: res.headers }
}

beforeAll(async () => {
  h = await startHerald()
})

afterAll(async () => {
  await h?.stop()
})

describe('long-poll', () => {
  it('a held request returns because of a publish, long before its wait ends', async () => {
    const app = await createApp(h)
    const first = await poll(app, 'channels=orders,alerts')
    expect(first.status).toBe(200)
    expect(first.body.messages).toEqual([])
    let settled = false
    const held = poll(app, `channels=orders,alerts&wait=30&cursor=${first.body.cursor}`).finally(() => (settled = true))
    // Held: it counts as a connection of the app, and is still pending then.
    const connections = () =>
      fetch(`${h.url}/admin/v1/apps/${app.appId}/stats`, { headers: { authorization: `Bearer ${h.adminToken}` } })
        .then((r) => r.json() as Promise<{ stats: { connections: number } }>)
        .then((s) => s.stats.connections)
    await until(async () => (await connections()) === 1, 10_000, 'the held poll counted as a connection')
    expect(settled).toBe(false)
    const published = await publish(h, app, { channel: 'alerts', data: { level: 'high' } })
    expect(published.status).toBe(200)
    // The wait is 30 s, the test times out at 20 s: only the publish can have answered it.
    const reply = await held
    expect(reply.status).toBe(200)
    expect(reply.body.messages).toHaveLength(1)
    expect(reply.body.messages[0]).toMatchObject({ channel: 'alerts', seq: 1, id: published.body.messages[0].id, data: { level: 'high' } })
    const next = decodeCursor(reply.body.cursor)!
    expect(Object.keys(next).sort()).toEqual(['alerts', 'orders'])
    expect(next.alerts!.seq).toBe(1)
  }, 20_000)

  it('wait=0 is a plain poll; a chain of polls gets every message once, in order', async () => {
    const app = await createApp(h)
    let cursor = (await poll(app, 'channels=c')).body.cursor
    const got: unknown[] = []
    for (let round = 0; round < 4; round++) {
      await publish(h, app, { messages: [0, 1, 2].map((i) => ({ channel: 'c', data: round * 3 + i })) })
      const r = await poll(app, `channels=c&wait=0&cursor=${cursor}`)
      got.push(...r.body.messages.map((m) => m.data))
      cursor = r.body.cursor
    }
    const empty = await poll(app, `channels=c&wait=0&cursor=${cursor}`)
    expect(empty.body).toEqual({ cursor, messages: [] })
    expect(got).toEqual(Array.from({ length: 12 }, (_, i) => i))
  })

  it('a cursor older than the history window gets recovered:false and the current position', async () => {
    const app = await createApp(h, { historySize: 3 })
    await publish(h, app, { channel: 'w', data: 1 })
    const first = await poll(app, 'channels=w,v')
    await publish(h, app, { messages: [2, 3, 4, 5, 6].map((n) => ({ channel: 'w', data: n })) })
    const r = await poll(app, `channels=w,v&cursor=${first.body.cursor}`)
    expect(r.status).toBe(200)
    expect(r.body.recovered).toEqual({ w: false })
    expect(r.body.messages).toEqual([])
    expect(decodeCursor(r.body.cursor)).toMatchObject({ w: { seq: 6 }, v: { seq: 0 } })
    // From there on it goes on normally.
    await publish(h, app, { channel: 'w', data: 7 })
    const after = await poll(app, `channels=w,v&cursor=${r.body.cursor}`)
    expect(after.body.messages.map((m) => m.data)).toEqual([7])
    expect(after.body.recovered).toBeUndefined()
  })

  it('follows the channel rules of every transport', async () => {
    const app = await createApp(h, { anonymousSubscribe: false })
    expect((await poll(app, 'channels=pub')).status).toBe(403)
    const token = await signToken(app, { cap: { pub: ['subscribe'] } })
    expect((await poll(app, `channels=pub&token=${token}`)).status).toBe(200)
    expect((await poll(app, `channels=private-x&token=${token}`)).status).toBe(403)
    const expired = await signToken(app, { exp: Math.floor(Date.now() / 1000) - 300 })
    expect((await poll(app, `channels=pub&token=${expired}`)).body.error?.code).toBe('token_expired')
  })
})
