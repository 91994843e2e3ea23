import { execFileSync } from 'node:child_process'
import { fileURLToPath } from 'node:url'
import { chromium, type Browser, type Page } from 'playwright-core'
import { afterAll, afterEach, beforeAll, beforeEach, describe, expect, it } from 'vitest'
import { createApp, publish, signToken, startHerald, type CreatedApp, type HeraldProcess } from './support/herald.js'

/**
 * The browser SDK (`/sdk/herald.js`) in a real Chromium against a real Herald process:
 * the chat example, each transport alone, fallback from a WebSocket that never answers,
 * token refresh, and the once-then-failed rule for refused tokens.
 */

const BUNDLE_SCRIPT = fileURLToPath(new URL('../../../sdks/browser/scripts/bundle.mjs', import.meta.url))
const TRANSPORTS = ['websocket', 'sse', 'longpoll'] as const

async function launchChromium(): Promise<Browser> {
  return chromium.launch({
    executablePath: process.env.CHROMIUM_PATH ?? '/usr/bin/chromium',
    args: ['--no-sandbox', '--disable-gpu', '--disable-background-networking', '--disable-component-update', '--disable-sync', '--no-first-run'],
  })
}

interface PageLog {
  states: Array<{ previous: string; current: string; reason: string; retryIn?: number }>
  messages: Array<{ channel: string; seq: number; epoch: string; data: unknown; clientId?: string }>
  subscribed: Array<{ channel: string; recovered: boolean; resumed: boolean }>
  unrecovered: unknown[]
  errors: unknown[]
  tokens: number
}

/**
 * Creates a client in the page (global `window.t`) that logs states, messages and
 * subscription events. `getToken` in the page calls back into the test.
 */
async function startClient(
  page: Page,
  options: { appId: string; token?: string; transports?: readonly string[]; getToken?: boolean; channels: string[]; connectTimeout?: number },
) {
  await page.evaluate((o) => {
    const w = window as any
    const log: PageLog = { states: [], messages: [], subscribed: [], unrecovered: [], errors: [], tokens: 0 }
    const client = new w.Herald.Client({
      url: location.origin,
      appId: o.appId,
      token: o.token,
      transports: o.transports,
      connectTimeout: o.connectTimeout,
      getToken: o.getToken
        ? async () => {
            log.tokens++
            return w.nextToken()
          }
        : undefined,
    })
    client.on('state', (s: PageLog['states'][number]) => log.states.push(s))
    client.on('error', (e: unknown) => log.errors.push(e))
    for (const channel of o.channels) {
      const sub = client.subscribe(channel, (m: PageLog['messages'][number]) => log.messages.push(m))
      sub.on('subscribed', (s: PageLog['subscribed'][number]) => log.subscribed.push(s))
      sub.on('unrecovered', (u: unknown) => log.unrecovered.push(u))
      sub.on('error', (e: unknown) => log.errors.push(e))
    }
    w.t = { client, log }
  }, options)
}

const pageLog = (page: Page) => page.evaluate(() => (window as any).t.log as PageLog)

/** Waits (in the page) until a predicate on the log holds. */
async function until(page: Page, predicate: string, timeout = 30_000) {
  await page.waitForFunction(`(() => { const log = window.t.log, client = window.t.client; return ${predicate} })()`, undefined, { timeout, polling: 50 })
}

describe('browser SDK (Chromium end-to-end)', () => {
  let herald: HeraldProcess
  let app: CreatedApp
  let browser: Browser
  let page: Page
  let pageErrors: string[]

  const token = (claims: Parameters<typeof signToken>[1] = {}) =>
    signToken(app, { sub: 'alice', cap: { '*': ['subscribe', 'publish', 'history', 'presence'] }, ...claims })

  beforeAll(async () => {
    execFileSync(process.execPath, [BUNDLE_SCRIPT], { stdio: 'pipe' }) // test the current SDK sources
    herald = await startHerald()
    app = await createApp(herald)
    browser = await launchChromium()
  })

  afterAll(async () => {
    await browser?.close()
    await herald?.stop()
  })

  beforeEach(async () => {
    page = await browser.newPage()
    pageErrors = []
    page.on('pageerror', (err) => pageErrors.push(err.message))
    if (process.env.DEBUG_PAGE) page.on('console', (m) => console.log('page:', m.text()))
    if (process.env.DEBUG_PAGE)
      page.on('websocket', (ws) => {
        ws.on('framesent', (f) => console.log('>', f.payload))
        ws.on('framereceived', (f) => console.log('<', f.payload))
        ws.on('close', () => console.log('ws closed'))
      })
    await page.goto(`${herald.url}/examples/chat/`) // loads /sdk/herald.js; no appId: no client
    expect(await page.evaluate(() => typeof (window as any).Herald?.Client)).toBe('function')
  })

  afterEach(async () => {
    await page.evaluate(() => (window as any).t?.client.close()).catch(() => {})
    await page.close()
    expect(pageErrors).toEqual([])
  })

  it('serves the chat example: messages from the backend and from the page show up', async () => {
    const tok = await token()
    await page.goto(`${herald.url}/examples/chat/?appId=${app.appId}&token=${tok}`)
    await page.locator('#status[data-state="connected"]').waitFor({ timeout: 30_000 })
    expect(await page.locator('#status').textContent()).toBe('connected via websocket')
    expect((await publish(herald, app, { channel: 'chat', data: { text: 'hello from the backend' } })).status).toBe(200)
    await page.locator('#messages li', { hasText: 'hello from the backend' }).waitFor({ timeout: 30_000 })
    await page.locator('#text').fill('hi from the browser')
    await page.locator('button[type=submit]').click()
    const mine = page.locator('#messages li', { hasText: 'hi from the browser' })
    await mine.waitFor({ timeout: 30_000 })
    expect(await mine.locator('.who').textContent()).toBe('alice')
    const history = await fetch(`${herald.url}/v1/apps/${app.appId}/channels/chat/messages?limit=10`, { headers: { authorization: app.basic } })
    const texts = ((await history.json()) as { messages: Array<{ data: { text: string } }> }).messages.map((m) => m.data.text)
    expect(texts).toEqual(['hello from the backend', 'hi from the browser'])
  })

  it('loads as an ES module from /sdk/herald.mjs too', async () => {
    const tok = await token()
    await page.addScriptTag({ type: 'module', content: "import { Client } from '/sdk/herald.mjs'; window.EsmClient = Client" })
    await page.waitForFunction(() => typeof (window as any).EsmClient === 'function', undefined, { timeout: 30_000 })
    const got = await page.evaluate(
      async ({ appId, tok }) => {
        const client = new (window as any).EsmClient({ appId, token: tok })
        const sub = client.subscribe('esm')
        await new Promise((resolve) => sub.on('subscribed', resolve))
        const reply = await client.publish('esm', 'via esm')
        client.close()
        return { transport: client.transport, seq: reply.seq }
      },
      { appId: app.appId, tok },
    )
    expect(got).toEqual({ transport: null, seq: 1 })
  })

  for (const transport of TRANSPORTS) {
    it(`works with ${transport} alone: receive, publish, history`, async () => {
      const channel = `alone-${transport}`
      await startClient(page, { appId: app.appId, token: await token(), transports: [transport], channels: [channel] })
      await until(page, `log.subscribed.length === 1`)
      expect(await page.evaluate(() => (window as any).t.client.transport)).toBe(transport)
      for (let i = 1; i <= 3; i++) expect((await publish(herald, app, { channel, name: 'n', data: { i } })).status).toBe(200)
      await until(page, `log.messages.length >= 3`)
      const published = await page.evaluate((ch) => (window as any).t.client.publish(ch, { i: 4 }, { name: 'from-page' }), channel)
      expect(published).toMatchObject({ channel, seq: 4 })
      await until(page, `log.messages.length >= 4`)
      const log = await pageLog(page)
      expect(log.messages.map((m) => (m.data as { i: number }).i)).toEqual([1, 2, 3, 4])
      expect(log.messages.map((m) => m.seq)).toEqual([1, 2, 3, 4])
      expect(log.messages[3]!.clientId).toBe('alice')
      expect(log.states.map((s) => s.current)).toEqual(['connecting', 'connected'])
      const history = await page.evaluate((ch) => (window as any).t.client.getSubscription(ch).history({ limit: 2 }), channel)
      expect(history.messages.map((m: { seq: number }) => m.seq)).toEqual([3, 4])
    })
  }

  it('falls back to SSE by itself when the WebSocket never answers (a proxy swallowing it)', async () => {
    // The page's WebSocket "opens", but no frame ever comes from the server.
    await page.routeWebSocket(/\/ws/, () => {})
    await startClient(page, { appId: app.appId, channels: ['fallback'] })
    await until(page, `client.state === 'connected'`)
    expect(await page.evaluate(() => (window as any).t.client.transport)).toBe('sse')
    await until(page, `log.subscribed.length === 1`)
    await publish(herald, app, { channel: 'fallback', data: 'through sse' })
    await until(page, `log.messages.length === 1`)
    const log = await pageLog(page)
    expect(log.messages[0]!.data).toBe('through sse')
    // the app saw one connect, nothing about the failed WebSocket
    expect(log.states.map((s) => `${s.current}:${s.reason}`)).toEqual(['connecting:connect', 'connected:sse'])
  })

  it('falls back to long-poll when both WebSocket and SSE are blocked', async () => {
    await page.routeWebSocket(/\/ws/, (ws) => ws.close({ code: 1008, reason: 'blocked' }))
    await page.route(/\/sse\?/, (route) => route.abort('blockedbyclient'))
    await startClient(page, { appId: app.appId, channels: ['fallback2'] })
    await until(page, `client.state === 'connected'`)
    expect(await page.evaluate(() => (window as any).t.client.transport)).toBe('longpoll')
    await until(page, `log.subscribed.length === 1`)
    await publish(herald, app, { channel: 'fallback2', data: 'through long-poll' })
    await until(page, `log.messages.length === 1`)
  })

  for (const transport of TRANSPORTS) {
    it(`goes offline and back online, then resumes with every missed message once (${transport})`, async () => {
      const channel = `offline-${transport}`
      await startClient(page, { appId: app.appId, transports: [transport], channels: [channel] })
      await until(page, `log.subscribed.length === 1`)
      await publish(herald, app, { channel, data: 1 })
      await until(page, `log.messages.length === 1`)
      await page.context().setOffline(true)
      await until(page, `client.state === 'disconnected'`)
      expect((await pageLog(page)).states.at(-1)).toEqual({ previous: 'connected', current: 'disconnected', reason: 'offline' })
      // published while the browser is offline: kept in the channel's history
      for (const data of [2, 3, 4]) await publish(herald, app, { channel, data })
      await page.context().setOffline(false)
      await until(page, `client.state === 'connected' && log.subscribed.length === 2`)
      await publish(herald, app, { channel, data: 5 })
      await until(page, `log.messages.length >= 5`)
      const log = await pageLog(page)
      expect(log.messages.map((m) => m.data)).toEqual([1, 2, 3, 4, 5])
      expect(log.subscribed[1]).toMatchObject({ resumed: true, recovered: true })
      expect(log.unrecovered).toEqual([])
      expect(log.states.map((s) => `${s.current}:${s.reason}`)).toEqual([
        'connecting:connect',
        `connected:${transport}`,
        'disconnected:offline',
        'connecting:online',
        `connected:${transport}`,
      ])
    })
  }

  it('shows presence: join and leave events, and members()', async () => {
    await page.exposeFunction('nextToken', () => token())
    await startClient(page, { appId: app.appId, getToken: true, channels: ['presence-room'] })
    await until(page, `log.subscribed.length === 1`)
    await page.evaluate(() => {
      const w = window as any
      w.presence = []
      w.t.client.getSubscription('presence-room').on('presence', (e: unknown) => w.presence.push(e))
    })
    const bobToken = await token({ sub: 'bob', info: { name: 'Bob' } })
    await page.evaluate(
      ({ appId, bobToken }) => {
        const w = window as any
        w.bob = new w.Herald.Client({ url: location.origin, appId, token: bobToken })
        w.bob.subscribe('presence-room')
      },
      { appId: app.appId, bobToken },
    )
    await page.waitForFunction(() => (window as any).presence.some((e: any) => e.action === 'join' && e.member.clientId === 'bob'), undefined, {
      timeout: 30_000,
    })
    const members = await page.evaluate(() => (window as any).t.client.getSubscription('presence-room').members())
    expect(members.map((m: { clientId: string }) => m.clientId).sort()).toEqual(['alice', 'bob'])
    expect(members.find((m: { clientId: string }) => m.clientId === 'bob').info).toEqual({ name: 'Bob' })
    await page.evaluate(() => (window as any).bob.close())
    await page.waitForFunction(() => (window as any).presence.some((e: any) => e.action === 'leave' && e.member.clientId === 'bob'), undefined, {
      timeout: 30_000,
    })
  })

  it('refreshes an expiring token over WebSocket with auth frames and stays connected past its expiry', async () => {
    await page.exposeFunction('nextToken', () => token({ ttlSeconds: 3 }))
    const sent: string[] = []
    const received: string[] = []
    page.on('websocket', (ws) => {
      ws.on('framesent', (f) => sent.push(String(f.payload)))
      ws.on('framereceived', (f) => received.push(String(f.payload)))
    })
    await startClient(page, { appId: app.appId, getToken: true, channels: ['refresh-ws'] })
    await until(page, `log.subscribed.length === 1`)
    // A control client with the same kind of token and no getToken: the server closes it
    // once the token is past exp + 30 s leeway, so staying connected needs the refreshes.
    const shortToken = await token({ ttlSeconds: 3 })
    await page.evaluate(
      ({ appId, shortToken }) => {
        const w = window as any
        w.control = new w.Herald.Client({ url: location.origin, appId, token: shortToken, transports: ['websocket'] })
      },
      { appId: app.appId, shortToken },
    )
    await page.waitForFunction(() => (window as any).control.state === 'failed', undefined, { timeout: 60_000, polling: 100 })
    // 3-second tokens refreshed every 2.4 s: 16 of them cover more than 3 + 30 s
    await until(page, `log.tokens >= 16`, 60_000)
    await publish(herald, app, { channel: 'refresh-ws', data: 'still here' })
    await until(page, `log.messages.length === 1`)
    const log = await pageLog(page)
    expect(log.states.map((s) => s.current)).toEqual(['connecting', 'connected'])
    expect(sent.filter((f) => JSON.parse(f).op === 'auth').length).toBeGreaterThanOrEqual(15)
    expect(received.filter((f) => JSON.parse(f).op === 'authed').length).toBeGreaterThanOrEqual(14)
    // the only error is the control client's expiry
    expect(received.filter((f) => JSON.parse(f).op === 'error').map((f) => JSON.parse(f).code)).toEqual(['token_expired'])
  }, 90_000)

  it('refreshes an expiring token over SSE by reopening the stream from its cursor', async () => {
    await page.exposeFunction('nextToken', () => token({ ttlSeconds: 3 }))
    const streams: string[] = []
    page.on('request', (r) => {
      if (r.url().includes('/sse?')) streams.push(r.url())
    })
    await startClient(page, { appId: app.appId, getToken: true, transports: ['sse'], channels: ['refresh-sse'] })
    await until(page, `log.subscribed.length === 1`)
    await publish(herald, app, { channel: 'refresh-sse', data: 1 })
    await until(page, `log.messages.length === 1`)
    await until(page, `log.tokens >= 3`)
    await publish(herald, app, { channel: 'refresh-sse', data: 2 })
    await until(page, `log.messages.length === 2`)
    const log = await pageLog(page)
    expect(log.messages.map((m) => m.data)).toEqual([1, 2])
    expect(log.states.map((s) => s.current)).toEqual(['connecting', 'connected'])
    const tokens = new Set(streams.map((u) => new URL(u).searchParams.get('token')))
    expect(tokens.size).toBeGreaterThanOrEqual(3)
    // reopened streams carry the position of the channel
    expect(new URL(streams.at(-1)!).searchParams.get('lastEventId')).toBeTruthy()
  })

  for (const transport of TRANSPORTS) {
    it(`goes to failed when its app is deleted (${transport})`, async () => {
      const doomed = await createApp(herald, {}, 'doomed')
      await startClient(page, { appId: doomed.appId, transports: [transport], channels: ['last-words'] })
      await until(page, `log.subscribed.length === 1`)
      const res = await fetch(`${herald.url}/admin/v1/apps/${doomed.appId}`, { method: 'DELETE', headers: { authorization: `Bearer ${herald.adminToken}` } })
      expect(res.status).toBe(204)
      await until(page, `client.state === 'failed'`)
      expect((await pageLog(page)).states.at(-1)!.reason).toBe('not_found')
    })
  }

  it('asks getToken once more after an expired token, then connects', async () => {
    let issued = 0
    await page.exposeFunction('nextToken', () => (++issued === 1 ? token({ exp: Math.floor(Date.now() / 1000) - 120 }) : token()))
    await startClient(page, { appId: app.appId, getToken: true, channels: ['second-chance'] })
    await until(page, `client.state === 'connected'`)
    expect(issued).toBe(2)
    await until(page, `log.subscribed.length === 1`)
  })

  for (const transport of TRANSPORTS) {
    it(`goes to failed, not into a retry loop, when every token is refused (${transport})`, async () => {
      let issued = 0
      await page.exposeFunction('nextToken', () => {
        issued++
        return signToken({ keyId: app.keyId, secret: 'not-the-secret-'.repeat(3) }, { sub: 'mallory' })
      })
      // The page's clock is Playwright's fake one (it runs at real speed until told otherwise).
      await page.clock.install()
      await startClient(page, { appId: app.appId, getToken: true, transports: [transport], channels: ['refused'] })
      await until(page, `client.state === 'failed'`)
      const log = await pageLog(page)
      expect(log.states.at(-1)!.reason).toBe('unauthorized')
      expect(log.tokens).toBe(2)
      // and it stays there: two minutes of the page's timers (past any backoff) ask nothing again
      await page.clock.runFor(120_000)
      expect(await page.evaluate(() => (window as any).t.log.tokens)).toBe(2)
      expect(await page.evaluate(() => (window as any).t.client.state)).toBe('failed')
      expect(issued).toBe(2)
    })
  }
})
