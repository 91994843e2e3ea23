import { EventSource } from 'eventsource'
import { decodeCursor } from '@herald/protocol'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { createApp, publish, signToken, startHerald, type CreatedApp, type HeraldProcess } from './support/herald.js'
import { until } from './support/ws-client.js'

/**
 * Server-Sent Events against a real Herald process, read by the `eventsource` package (a
 * WHATWG EventSource for Node) and by raw `fetch`.
 */

let h: HeraldProcess
const sources: EventSource[] = []

beforeAll(async () => {
  // Streams rotate every 2 s (the cut the client must survive), pings every second, quick retry.
  h = await startHerald({ env: { HERALD_SSE_MAX_STREAM_SECONDS: '2', HERALD_SSE_PING_SECONDS: '1', HERALD_SSE_RETRY_MS: '200' } })
})

afterAll(async () => {
  for (const s of sources) s.close()
  await h?.stop()
})

interface Seen {
  subscribed: Array<{ channel: string; epoch: string; seq: number; recovered?: boolean }>
  messages: Array<{ id: string; data: { channel: string; seq: number; epoch: string; data: unknown; name?: string } }>
  named: Array<{ type: string; data: unknown }>
  errors: number
}

function listen(url: string): { source: EventSource; seen: Seen } {
  const source = new EventSource(url)
  sources.push(source)
  const seen: Seen = { subscribed: [], messages: [], named: [], errors: 0 }
  source.addEventListener('subscribed', (e) => seen.subscribed.push(JSON.parse(e.data)))
  source.addEventListener('message', (e) => seen.messages.push({ id: e.lastEventId, data: JSON.parse(e.data) }))
  source.addEventListener('greeting', (e) => seen.named.push({ type: 'greeting', data: JSON.parse(e.data) }))
  source.addEventListener('error', () => seen.errors++)
  return { source, seen }
}

describe('SSE with a WHATWG EventSource', () => {
  let app: CreatedApp
  beforeAll(async () => {
    app = await createApp(h)
  })

  it('receives subscribed events and messages; events=named dispatches by name', async () => {
    const token = await signToken(app, { cap: { 'private-*': ['subscribe'] } })
    const { seen } = listen(`${h.url}/v1/apps/${app.appId}/sse?channels=news,private-ops&events=named&token=${token}`)
    await until(() => seen.subscribed.length === 2, 15_000, 'subscribed events')
    expect(seen.subscribed.map((s) => s.channel).sort()).toEqual(['news', 'private-ops'])
    await publish(h, app, { channel: 'news', data: { n: 1 } })
    await publish(h, app, { channel: 'private-ops', name: 'greeting', data: 'hi' })
    await until(() => seen.messages.length === 1 && seen.named.length === 1, 15_000, 'both messages')
    expect(seen.messages[0]!.data).toMatchObject({ channel: 'news', seq: 1, data: { n: 1 } })
    expect(seen.named[0]!.data).toMatchObject({ channel: 'private-ops', name: 'greeting', data: 'hi' })
    expect(decodeCursor(seen.messages[0]!.id)).toMatchObject({ news: { seq: 1 }, 'private-ops': { seq: 0 } })
  })

  it('survives server-side cuts of the stream: Last-Event-ID resumes with every message once, in order', async () => {
    const { seen } = listen(`${h.url}/v1/apps/${app.appId}/sse?channels=feed,ticks`)
    await until(() => seen.subscribed.length === 2, 15_000, 'subscribed events')
    // Published continuously (a message every 50 ms) until the stream has been cut and resumed
    // at least twice: each reconnect subscribes both channels again.
    let total = 0
    while (total < 120 || seen.subscribed.length < 6) {
      total++
      const r = await publish(h, app, { channel: total % 3 === 0 ? 'ticks' : 'feed', data: total })
      expect(r.status).toBe(200)
      await new Promise((r) => setTimeout(r, 50))
    }
    await until(() => seen.messages.length >= total, 20_000, `all ${total} messages`)
    // A duplicate would arrive before a later message of its channel: one more on each, and wait for both.
    for (const channel of ['feed', 'ticks']) expect((await publish(h, app, { channel, data: ++total })).status).toBe(200)
    await until(
      () => seen.messages.some((m) => m.data.data === total - 1) && seen.messages.some((m) => m.data.data === total),
      20_000,
      'the last message of each channel',
    )
    // Every message once (order is per channel: a resume replays channel by channel).
    expect(seen.messages.map((m) => m.data.data as number).sort((a, b) => a - b)).toEqual(Array.from({ length: total }, (_, i) => i + 1))
    for (const channel of ['feed', 'ticks']) {
      const seqs = seen.messages.filter((m) => m.data.channel === channel).map((m) => m.data.seq)
      expect(seqs).toEqual(Array.from({ length: seqs.length }, (_, i) => i + 1))
    }
    // Cuts happened: each reconnect subscribes both channels again, recovered from the event id.
    expect(seen.subscribed.length).toBeGreaterThanOrEqual(6)
    expect(seen.subscribed.slice(2).every((s) => s.recovered === true)).toBe(true)
  }, 60_000)
})

describe('SSE on the wire (fetch)', () => {
  it('sends the headers, a retry line first, subscribed, and comment pings', async () => {
    const app = await createApp(h)
    const controller = new AbortController()
    const res = await fetch(`${h.url}/v1/apps/${app.appId}/sse?channels=raw`, { signal: controller.signal })
    expect(res.status).toBe(200)
    expect(res.headers.get('content-type')).toBe('text/event-stream')
    expect(res.headers.get('cache-control')).toBe('no-cache')
    expect(res.headers.get('x-accel-buffering')).toBe('no')
    let text = ''
    const decoder = new TextDecoder()
    const reader = res.body!.getReader()
    const deadline = Date.now() + 15_000
    while (!text.includes('\n: ping\n') && Date.now() < deadline) {
      const { value, done } = await reader.read()
      if (done) break
      text += decoder.decode(value, { stream: true })
    }
    controller.abort()
    const lines = text.split('\n')
    expect(lines[0]).toMatch(/^retry: \d+$/)
    expect(text).toMatch(/event: subscribed\nid: [A-Za-z0-9_-]+\ndata: \{"channel":"raw","epoch":"e_[^"]+","seq":0\}\n\n/)
    expect(lines).toContain(': ping')
  })

  it("refuses before streaming with the contract's JSON errors", async () => {
    const app = await createApp(h, { anonymousSubscribe: false })
    const res = await fetch(`${h.url}/v1/apps/${app.appId}/sse?channels=closed`)
    expect(res.status).toBe(403)
    expect(await res.json()).toMatchObject({ error: { code: 'forbidden' } })
    const bad = await fetch(`${h.url}/v1/apps/${app.appId}/sse?channels=x&token=nope`)
    expect(bad.status).toBe(401)
    expect(await bad.json()).toMatchObject({ error: { code: 'unauthorized' } })
  })
})
