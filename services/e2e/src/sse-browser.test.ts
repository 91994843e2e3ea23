import { chromium, type Browser } from 'playwright-core'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { createApp, publish, startHerald, type HeraldProcess } from './support/herald.js'
import { until } from './support/ws-client.js'

/**
 * A native EventSource in a real Chromium. The server ends every stream after
 * HERALD_SSE_MAX_STREAM_SECONDS (here 2 s, as proxies and long-stream rotation do in
 * production); the browser reconnects by itself with Last-Event-ID, and must miss nothing.
 */

let h: HeraldProcess
let browser: Browser

beforeAll(async () => {
  h = await startHerald({ env: { HERALD_SSE_MAX_STREAM_SECONDS: '2', HERALD_SSE_RETRY_MS: '200' } })
  browser = await chromium.launch({
    executablePath: process.env.CHROMIUM_PATH ?? '/usr/bin/chromium',
    args: ['--no-sandbox', '--disable-gpu', '--disable-background-networking', '--disable-component-update', '--disable-sync', '--no-first-run'],
  })
})

afterAll(async () => {
  await browser?.close()
  await h?.stop()
})

interface PageLog {
  messages: Array<{ channel: string; seq: number; data: number; lastEventId: string }>
  subscribed: Array<{ channel: string; seq: number; recovered?: boolean }>
  opens: number
  errors: number
}

describe('SSE in a browser', () => {
  it('a native EventSource gets every message once, in order, across server-side cuts', async () => {
    const app = await createApp(h)
    const page = await browser.newPage()
    // A page on the service's origin.
    await page.goto(`${h.url}/healthz`)
    await page.evaluate((url) => {
      const log: PageLog = { messages: [], subscribed: [], opens: 0, errors: 0 }
      ;(window as any).log = log
      const source = new EventSource(url)
      source.onopen = () => log.opens++
      source.onerror = () => log.errors++
      source.addEventListener('subscribed', (e) => log.subscribed.push(JSON.parse((e as MessageEvent).data)))
      source.addEventListener('message', (e) => {
        const m = JSON.parse(e.data)
        log.messages.push({ channel: m.channel, seq: m.seq, data: m.data, lastEventId: e.lastEventId })
      })
    }, `/v1/apps/${app.appId}/sse?channels=live`)
    const read = () => page.evaluate(() => (window as any).log as PageLog)
    await until(async () => (await read()).subscribed.length > 0, 15_000, 'the EventSource subscribed')

    // Publish continuously (a message every 50 ms) until the stream has been cut and resumed at least twice.
    let total = 0
    while (total < 140 || (await read()).opens < 3) {
      expect((await publish(h, app, { channel: 'live', data: ++total })).status).toBe(200)
      await new Promise((r) => setTimeout(r, 50))
    }
    // A duplicate would arrive before a later message: one more, and wait until it is there.
    expect((await publish(h, app, { channel: 'live', data: ++total })).status).toBe(200)
    await until(async () => (await read()).messages.some((m) => m.data === total), 20_000, `message ${total} in the page`)
    const log = await read()
    expect(log.messages.map((m) => m.data)).toEqual(Array.from({ length: total }, (_, i) => i + 1))
    expect(log.messages.map((m) => m.seq)).toEqual(Array.from({ length: total }, (_, i) => i + 1))
    // The stream really was cut: the browser opened it again and resumed from its last event id.
    expect(log.opens).toBeGreaterThanOrEqual(3)
    expect(log.subscribed.length).toBe(log.opens)
    expect(log.subscribed.slice(1).every((s) => s.recovered === true)).toBe(true)
    await page.close()
  }, 60_000)
})
