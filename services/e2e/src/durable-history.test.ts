import { join } from 'node:path'
import Database from 'better-sqlite3'
import { afterAll, describe, expect, it } from 'vitest'
import { history, http, sseAttempt, type RawResponse } from './support/attack.js'
import { createApp, publish, startHerald, type CreatedApp, type HeraldProcess } from './support/herald.js'
import { until, WsClient } from './support/ws-client.js'

/**
 * The embedded default (no Redis) keeps what it acknowledged across `kill -9` and SIGTERM:
 * history, each channel's epoch and seq, and publisher ids live in `<data dir>/herald.db`.
 * A client resuming after the restart from a position taken before it — over WebSocket
 * (`since`), SSE (`Last-Event-ID`) and poll (`cursor`) — gets every message after it, in
 * order, once, in the same epoch, never `recovered: false`.
 */

const heralds: HeraldProcess[] = []
const clients: WsClient[] = []

afterAll(async () => {
  for (const c of clients) c.ws.terminate()
  for (const h of heralds) await h.stop('SIGKILL')
})

async function herald(options: Parameters<typeof startHerald>[0] = {}): Promise<HeraldProcess> {
  const h = await startHerald(options)
  heralds.push(h)
  return h
}

interface Acked {
  id: string
  seq: number
}

/** Publishes to `channel` from `lanes` concurrent loops until `stop()` or a failed request; returns what got a 200. */
function publishLoops(h: HeraldProcess, app: CreatedApp, channel: string, lanes: number, stop: () => boolean): { acked: Acked[]; done: Promise<void> } {
  const acked: Acked[] = []
  let n = 0
  const lane = async () => {
    while (!stop()) {
      const id = `m-${n++}`
      let res: RawResponse
      try {
        res = await http(h.url, 'POST', `/v1/apps/${app.appId}/messages`, {
          headers: { authorization: app.basic, 'content-type': 'application/json' },
          body: JSON.stringify({ channel, id, data: { id } }),
        })
      } catch {
        return // the process went away mid-request: not acknowledged
      }
      if (res.status !== 200) return
      acked.push({ id, seq: res.json.messages[0].seq })
    }
  }
  return { acked, done: Promise.all(Array.from({ length: lanes }, lane)).then(() => {}) }
}

interface Msg {
  id: string
  seq: number
  epoch: string
  channel: string
}

/** The events of an SSE stream's text: `{event, id, data}` per block. */
function sseEvents(text: string): Array<{ event: string; id?: string; data: any }> {
  const out: Array<{ event: string; id?: string; data: any }> = []
  for (const block of text.split('\n\n')) {
    let event = 'message'
    let id: string | undefined
    const data: string[] = []
    for (const line of block.split('\n')) {
      if (line.startsWith('event: ')) event = line.slice(7)
      else if (line.startsWith('id: ')) id = line.slice(4)
      else if (line.startsWith('data: ')) data.push(line.slice(6))
    }
    if (data.length > 0) out.push(id === undefined ? { event, data: JSON.parse(data.join('\n')) } : { event, id, data: JSON.parse(data.join('\n')) })
  }
  return out
}

/** Every seq from `from + 1` to `to`, in order, once, all in `epoch`; and every acknowledged message among them at its seq. */
function expectComplete(what: string, got: Msg[], epoch: string, from: number, to: number, acked: Acked[]): void {
  expect(
    got.map((m) => m.seq),
    what,
  ).toEqual(Array.from({ length: to - from }, (_, i) => from + 1 + i))
  expect(new Set(got.map((m) => m.epoch)), what).toEqual(new Set([epoch]))
  const bySeq = new Map(got.map((m) => [m.seq, m.id]))
  const wrong = acked.filter((a) => a.seq > from && bySeq.get(a.seq) !== a.id)
  expect(wrong, `${what}: acknowledged messages missing or at another seq`).toEqual([])
}

const FEED = 'feed'

async function scenario(signal: 'SIGKILL' | 'SIGTERM'): Promise<void> {
  const h = await herald()
  const app = await createApp(h, { historySize: 5000, publishRatePerSecond: 1_000_000 })
  const small = await createApp(h, { historySize: 5, publishRatePerSecond: 1_000_000 })
  for (let i = 1; i <= 3; i++) expect((await publish(h, app, { channel: FEED, data: { warmup: i } })).status).toBe(200)
  for (let i = 1; i <= 20; i++) expect((await publish(h, small, { channel: 'bounded', data: i })).status).toBe(200)

  // Positions taken before the crash, one per transport, all at seq 3.
  const ws = await WsClient.connect(`${h.wsUrl}/v1/apps/${app.appId}/ws`)
  clients.push(ws)
  const before = await ws.request({ op: 'subscribe', channel: FEED })
  expect(before).toMatchObject({ op: 'subscribed', seq: 3 })
  const epoch = before.epoch as string
  ws.ws.terminate()
  const sse = await sseAttempt(`${h.url}/v1/apps/${app.appId}/sse?channels=${FEED}&rewind=1`, {
    until: (t) => t.includes('event: message') && t.endsWith('\n\n'),
  })
  const sseCursor = sseEvents(sse.text).find((e) => e.event === 'message')!.id!
  const pollCursor = (await http(h.url, 'GET', `/v1/apps/${app.appId}/poll?channels=${FEED}`)).json.cursor as string

  // A stream of acknowledged publishes, and the process goes away in the middle of it.
  let stopped = false
  const loops = publishLoops(h, app, FEED, 4, () => stopped)
  await until(() => loops.acked.length >= 300, 30_000, '300 acknowledged publishes')
  const exit = await h.stop(signal)
  expect(exit).toEqual(signal === 'SIGKILL' ? { code: null, signal: 'SIGKILL' } : { code: 0, signal: null })
  stopped = true
  await loops.done
  const acked = loops.acked

  const again = await herald({ dataDir: h.dataDir, adminToken: h.adminToken })

  // WebSocket, `since` from before the crash.
  const live = await WsClient.connect(`${again.wsUrl}/v1/apps/${app.appId}/ws`)
  clients.push(live)
  const sub = await live.request({ op: 'subscribe', channel: FEED, since: { epoch, seq: 3 } })
  expect(sub.epoch).toBe(epoch)
  expect(sub.recovered).not.toBe(false)
  const head = sub.seq as number
  expect(head).toBeGreaterThanOrEqual(3 + acked.length)
  await until(() => live.messages(FEED).at(-1)?.seq === head, 15_000, 'the recovered messages over WebSocket')
  expectComplete('WebSocket', live.messages(FEED) as unknown as Msg[], epoch, 3, head, acked)

  // SSE, Last-Event-ID from before the crash.
  const resumed = await sseAttempt(`${again.url}/v1/apps/${app.appId}/sse?channels=${FEED}`, {
    headers: { 'last-event-id': sseCursor },
    until: (t) => t.includes(`"seq":${head},"epoch"`) && t.endsWith('\n\n'),
    timeoutMs: 15_000,
  })
  expect(resumed.status).toBe(200)
  const events = sseEvents(resumed.text)
  const subscribed = events.find((e) => e.event === 'subscribed')!.data
  expect(subscribed).toMatchObject({ channel: FEED, epoch, seq: head })
  expect(subscribed.recovered).not.toBe(false)
  expectComplete(
    'SSE',
    events.filter((e) => e.event === 'message').map((e) => e.data),
    epoch,
    3,
    head,
    acked,
  )

  // Poll, cursor from before the crash, page after page.
  const polled: Msg[] = []
  let cursor = pollCursor
  while (polled.length < head - 3) {
    const r = await http(again.url, 'GET', `/v1/apps/${app.appId}/poll?channels=${FEED}&wait=0&cursor=${encodeURIComponent(cursor)}`)
    expect(r.status).toBe(200)
    expect(r.json.recovered).toBeUndefined()
    if (r.json.messages.length === 0) break
    polled.push(...r.json.messages)
    cursor = r.json.cursor
  }
  expectComplete('poll', polled, epoch, 3, head, acked)

  // A publisher retrying an acknowledged message after the restart: its first seq, delivered to no one.
  const last = acked.at(-1)!
  const retry = await publish(again, app, { channel: FEED, id: last.id, data: { id: last.id, retry: true } })
  expect(retry.status).toBe(200)
  expect(retry.body.messages[0]).toMatchObject({ id: last.id, seq: last.seq, epoch })
  const next = await publish(again, app, { channel: FEED, data: 'after the restart' })
  expect(next.body.messages[0]).toMatchObject({ seq: head + 1, epoch })
  await until(() => live.messages(FEED).at(-1)?.seq === head + 1, 15_000, 'the message after the retry')
  expect(
    live
      .messages(FEED)
      .slice(head - 3)
      .map((m) => m.data),
  ).toEqual(['after the restart'])

  // The history window is still bounded: historySize 5 before and after the restart. On disk,
  // dead rows are deleted once 16 of them (max(16, historySize / 4)) have piled up: 20 rows at most.
  const kept = await history(again, small, 'bounded')
  expect(kept.messages.map((m) => m.data)).toEqual([16, 17, 18, 19, 20])
  for (let i = 21; i <= 30; i++) expect((await publish(again, small, { channel: 'bounded', data: i })).status).toBe(200)
  const after = await history(again, small, 'bounded')
  expect(after.epoch).toBe(kept.epoch)
  expect(after.messages.map((m) => [m.seq, m.data])).toEqual([26, 27, 28, 29, 30].map((n) => [n, n]))
  const db = new Database(join(again.dataDir, 'herald.db'), { readonly: true, fileMustExist: true })
  try {
    // 1..16 deleted by the 21st publish; 17..25 are dead, under the slack.
    expect(db.prepare('SELECT min(seq) AS lo, count(*) AS n FROM channel_history WHERE app_id = ?').get(small.appId)).toEqual({ lo: 17, n: 14 })
  } finally {
    db.close()
  }
  await again.stop('SIGTERM')
}

describe('durable history on the embedded default', () => {
  it('keeps every acknowledged message across kill -9: resume over WebSocket, SSE and poll, idempotent retry, bounded window', async () => {
    await scenario('SIGKILL')
  }, 120_000)

  it('does the same across a SIGTERM restart', async () => {
    await scenario('SIGTERM')
  }, 120_000)

  it('with HERALD_HISTORY=memory a restart starts every channel in a new epoch (documented trade-off)', async () => {
    const h = await herald({ env: { HERALD_HISTORY: 'memory' } })
    const app = await createApp(h)
    const [first] = (await publish(h, app, { channel: 'c', data: 1 })).body.messages
    await h.stop('SIGTERM')
    const again = await herald({ dataDir: h.dataDir, adminToken: h.adminToken, env: { HERALD_HISTORY: 'memory' } })
    const [next] = (await publish(again, app, { channel: 'c', data: 2 })).body.messages
    expect(next.seq).toBe(1)
    expect(next.epoch).not.toBe(first.epoch)
    await again.stop('SIGTERM')
  }, 60_000)
})
