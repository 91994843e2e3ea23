import { EventSource } from 'eventsource'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { createApp, publish, startHerald, type CreatedApp, type HeraldProcess } from './support/herald.js'
import { metric, scrape } from './support/attack.js'
import { WsClient } from './support/ws-client.js'
import { until } from './support/ws-client.js'

/** One cursor format and one message shape across WebSocket, SSE and long-poll. */

let h: HeraldProcess
let app: CreatedApp
const closers: Array<() => void> = []

beforeAll(async () => {
  h = await startHerald()
  app = await createApp(h)
})

afterAll(async () => {
  for (const close of closers) close()
  await h?.stop()
})

interface Msg {
  channel: string
  id: string
  seq: number
  epoch: string
  data: unknown
}

function openSse(url: string) {
  const source = new EventSource(url)
  closers.push(() => source.close())
  const seen = { subscribed: [] as Array<{ recovered?: boolean; seq: number }>, messages: [] as Array<{ lastEventId: string; message: Msg }> }
  source.addEventListener('subscribed', (e) => seen.subscribed.push(JSON.parse(e.data)))
  source.addEventListener('message', (e) => seen.messages.push({ lastEventId: e.lastEventId, message: JSON.parse(e.data) }))
  return { source, seen }
}

async function poll(query: string): Promise<{ cursor: string; messages: Msg[]; recovered?: Record<string, false> }> {
  const res = await fetch(`${h.url}/v1/apps/${app.appId}/poll?${query}`)
  expect(res.status).toBe(200)
  return res.json() as Promise<{ cursor: string; messages: Msg[] }>
}

describe('across transports', () => {
  it('a message published once reaches WebSocket, SSE and long-poll subscribers with the same id, seq and epoch', async () => {
    const ws = await WsClient.connect(`${h.wsUrl}/v1/apps/${app.appId}/ws`)
    closers.push(() => ws.ws.close())
    await ws.request({ op: 'subscribe', channel: 'all' })
    const sse = openSse(`${h.url}/v1/apps/${app.appId}/sse?channels=all`)
    await until(() => sse.seen.subscribed.length === 1, 15_000, 'the SSE subscribed event')
    const start = await poll('channels=all')
    const held = poll(`channels=all&wait=30&cursor=${start.cursor}`)
    await until(async () => metric(await scrape(h), 'herald_connections', { app: app.appId, transport: 'longpoll' }) === 1, 10_000, 'the held poll')

    const published = await publish(h, app, { channel: 'all', name: 'hello', data: { n: 1 } })
    expect(published.status).toBe(200)
    const ref = published.body.messages[0] as { id: string; seq: number; epoch: string }

    const viaWs = (await ws.next((f) => f.op === 'message' && f.channel === 'all')) as unknown as Msg
    await until(() => sse.seen.messages.length === 1, 15_000, 'the SSE message')
    const viaSse = sse.seen.messages[0]!.message
    const viaPoll = (await held).messages[0]!
    for (const m of [viaWs, viaSse, viaPoll]) {
      expect({ id: m.id, seq: m.seq, epoch: m.epoch }).toEqual({ id: ref.id, seq: ref.seq, epoch: ref.epoch })
      expect(m).toMatchObject({ channel: 'all', name: 'hello', data: { n: 1 } })
    }
    const { op: _op, ...wsMessage } = viaWs as unknown as Record<string, unknown>
    expect(viaSse).toEqual(wsMessage)
    expect(viaPoll).toEqual(wsMessage)
  }, 30_000)

  it('a poll cursor resumes an SSE stream', async () => {
    const start = await poll('channels=p2s,other')
    await publish(h, app, { messages: [1, 2, 3].map((n) => ({ channel: 'p2s', data: n })) })
    const sse = openSse(`${h.url}/v1/apps/${app.appId}/sse?channels=p2s,other&lastEventId=${start.cursor}`)
    await until(() => sse.seen.messages.length === 3, 15_000, 'the missed messages over SSE')
    expect(sse.seen.subscribed.map((s) => s.recovered)).toEqual([true, true])
    expect(sse.seen.messages.map((m) => m.message.data)).toEqual([1, 2, 3])
    sse.source.close()
  })

  it('an SSE event id resumes a poll', async () => {
    const sse = openSse(`${h.url}/v1/apps/${app.appId}/sse?channels=s2p,more`)
    await until(() => sse.seen.subscribed.length === 2, 15_000, 'subscribed')
    await publish(h, app, { channel: 's2p', data: 'a' })
    await until(() => sse.seen.messages.length === 1, 15_000, 'the first message')
    const lastEventId = sse.seen.messages[0]!.lastEventId
    sse.source.close()
    await publish(h, app, {
      messages: [
        { channel: 's2p', data: 'b' },
        { channel: 'more', data: 'c' },
      ],
    })
    const r = await poll(`channels=s2p,more&wait=0&cursor=${lastEventId}`)
    expect(r.recovered).toBeUndefined()
    expect(r.messages.map((m) => m.data)).toEqual(['b', 'c'])
    const again = await poll(`channels=s2p,more&wait=0&cursor=${r.cursor}`)
    expect(again.messages).toEqual([])
  })

  it('a WebSocket resumes from the position a poll reports', async () => {
    const start = await poll('channels=p2w')
    await publish(h, app, { messages: [1, 2].map((n) => ({ channel: 'p2w', data: n })) })
    const { decodeCursor } = await import('@herald/protocol')
    const since = decodeCursor(start.cursor)!.p2w!
    const ws = await WsClient.connect(`${h.wsUrl}/v1/apps/${app.appId}/ws`)
    closers.push(() => ws.ws.close())
    const subscribed = await ws.request({ op: 'subscribe', channel: 'p2w', since })
    expect(subscribed.recovered).toBe(true)
    await ws.next((f) => f.op === 'message' && f.seq === 2)
    expect(ws.messages('p2w').map((f) => f.data)).toEqual([1, 2])
  })
})
