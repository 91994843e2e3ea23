import { chromium, type Browser, type Page } from 'playwright-core'
import { afterAll, afterEach, beforeAll, beforeEach, describe, expect, it } from 'vitest'
import { createApp, publish, startHerald, type CreatedApp, type HeraldProcess } from './support/herald.js'
import { connected, nextEvent, pusherClient, pusherServer, startAuthServer, type AuthServer, type PusherJs } from './support/pusher.js'

/**
 * pusher-js's browser build (with encryption) in Debian Chromium, on the app's own origin,
 * talking to Herald on another origin over each transport pusher-js has: `ws`, and the HTTP
 * fallbacks `xhr_streaming` and `xhr_polling` it uses where WebSockets are refused.
 */

const TRANSPORTS = ['ws', 'xhr_streaming', 'xhr_polling'] as const

let h: HeraldProcess
let app: CreatedApp
let auth: AuthServer
let browser: Browser
let page: Page
let pageErrors: string[]
const nodeClients: PusherJs[] = []

beforeAll(async () => {
  h = await startHerald()
  app = await createApp(h, { clientEvents: true })
  auth = await startAuthServer(pusherServer(h.port, app), app)
  browser = await chromium.launch({
    executablePath: process.env.CHROMIUM_PATH ?? '/usr/bin/chromium',
    args: ['--no-sandbox', '--disable-gpu', '--disable-background-networking', '--disable-component-update', '--disable-sync', '--no-first-run'],
  })
})
afterAll(async () => {
  await browser?.close()
  await auth?.close()
  await h?.stop()
})
beforeEach(async () => {
  page = await browser.newPage()
  pageErrors = []
  page.on('pageerror', (err) => pageErrors.push(err.message))
  if (process.env.DEBUG_PAGE) page.on('console', (m) => console.log('page:', m.text()))
  await page.goto(`${auth.url}/`)
  await page.addScriptTag({ url: '/pusher.js' })
})
afterEach(async () => {
  for (const c of nodeClients.splice(0)) c.disconnect()
  await page.evaluate(() => (window as any).pusher?.disconnect()).catch(() => {})
  await page.close()
  expect(pageErrors).toEqual([])
})

/** Starts pusher-js in the page on one transport; events are logged in `window.log`. */
async function startPage(transport: (typeof TRANSPORTS)[number], user: string) {
  await page.evaluate(
    ({ key, port, transport, user }) => {
      const w = window as any
      w.log = { events: [] as Array<{ channel: string; event: string; data: unknown; userId?: string }>, errors: [] as unknown[], subscribed: [] as string[] }
      w.pusher = new w.Pusher(key, {
        cluster: 'any',
        wsHost: '127.0.0.1',
        wsPort: port,
        httpHost: '127.0.0.1',
        httpPort: port,
        forceTLS: false,
        enabledTransports: [transport],
        channelAuthorization: { endpoint: '/pusher/auth', transport: 'ajax', params: { user } },
      })
      w.pusher.connection.bind('error', (e: unknown) => w.log.errors.push(e))
      w.listen = (name: string) => {
        const ch = w.pusher.subscribe(name)
        ch.bind('pusher:subscription_succeeded', () => w.log.subscribed.push(name))
        // Global handlers get no metadata: client events are bound by name to see user_id.
        ch.bind_global((event: string, data: unknown) => {
          if (!event.startsWith('pusher') && !event.startsWith('client-')) w.log.events.push({ channel: name, event, data })
        })
        ch.bind('client-wave', (data: unknown, meta?: { user_id?: string }) =>
          w.log.events.push({ channel: name, event: 'client-wave', data, userId: meta?.user_id }),
        )
        return ch
      }
    },
    { key: app.keyId, port: h.port, transport, user },
  )
  await page.waitForFunction(() => (window as any).pusher.connection.state === 'connected', undefined, { timeout: 30_000 })
  return page.evaluate(() => ({
    socketId: (window as any).pusher.connection.socket_id as string,
    transport: (window as any).pusher.connection.connection.transport.name as string,
  }))
}

const subscribed = (name: string) => page.waitForFunction((n) => (window as any).log.subscribed.includes(n), name, { timeout: 30_000 })
const received = (predicate: string) => page.waitForFunction(`window.log.events.some((e) => ${predicate})`, undefined, { timeout: 30_000, polling: 50 })

describe.each(TRANSPORTS)('pusher-js in Chromium over %s', (transport) => {
  it('connects, subscribes to public, private and encrypted channels, and receives', async () => {
    const { socketId, transport: used } = await startPage(transport, 'page')
    expect(socketId).toMatch(/^\d+\.\d+$/)
    expect(used).toBe(transport)
    await page.evaluate(() => {
      const w = window as any
      w.listen('news')
      w.listen('private-desk')
      w.listen('private-encrypted-vault')
    })
    await subscribed('news')
    await subscribed('private-desk')
    await subscribed('private-encrypted-vault')
    await publish(h, app, { channel: 'news', name: 'headline', data: { text: `over ${transport}` } })
    await publish(h, app, { channel: 'private-desk', name: 'memo', data: 'private text' })
    await pusherServer(h.port, app).trigger('private-encrypted-vault', 'secret', { code: 42 })
    await received(`e.event === 'headline' && e.data.text === 'over ${transport}'`)
    await received(`e.event === 'memo' && e.data === 'private text'`)
    await received(`e.event === 'secret' && e.data.code === 42`)
  })

  it('sends and receives client events (sent over xhr_send on the HTTP transports)', async () => {
    await startPage(transport, 'page-user')
    const peer = pusherClient(h.port, app, { auth, user: 'peer' })
    nodeClients.push(peer)
    await connected(peer)
    const peerChannel = peer.subscribe('presence-studio')
    await nextEvent(peerChannel, 'pusher:subscription_succeeded')
    await page.evaluate(() => (window as any).listen('presence-studio'))
    await subscribed('presence-studio')
    const atPeer = new Promise<[unknown, unknown]>((resolve) => peerChannel.bind('client-wave', (d: unknown, meta: unknown) => resolve([d, meta])))
    await page.evaluate(() => (window as any).pusher.channel('presence-studio').trigger('client-wave', { from: 'page' }))
    expect(await atPeer).toEqual([{ from: 'page' }, { user_id: 'page-user' }])
    peerChannel.trigger('client-wave', { from: 'peer' })
    await received(`e.event === 'client-wave' && e.data.from === 'peer' && e.userId === 'peer'`)
    const own = await page.evaluate(() => (window as any).log.events.filter((e: { data: { from: string } }) => e.data.from === 'page').length)
    expect(own).toBe(0)
  })
})
