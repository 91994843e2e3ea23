import { execFileSync } from 'node:child_process'
import { readFileSync } from 'node:fs'
import { createServer, type Server } from 'node:http'
import type { AddressInfo } from 'node:net'
import { fileURLToPath } from 'node:url'
import { build } from 'esbuild'
import { chromium, type Browser, type Page } from 'playwright-core'
import { afterAll, afterEach, beforeAll, beforeEach, describe, expect, it } from 'vitest'
import { sourceAliases } from '../../../vitest.aliases.js'
import { createApp, publish, signToken, type CreatedApp, type HeraldProcess, startHerald } from './support/herald.js'
import { until, WsClient } from './support/ws-client.js'

/**
 * `@herald/react` in a real Chromium against a real Herald process: a page of components
 * using the hooks (React's development build under StrictMode, bundled here with esbuild
 * from the sources) gets messages, follows presence, shares one subscription per channel,
 * and releases it on unmount, as the server's own counts show.
 */

const APP = fileURLToPath(new URL('./fixtures/react-hooks-app.tsx', import.meta.url))
const CHAT_BUILD = fileURLToPath(new URL('../../../examples/chat/build.mjs', import.meta.url))
const REPO = fileURLToPath(new URL('../../../', import.meta.url))
const html = (src: string) => `<!doctype html><meta charset="utf-8"><title>hooks</title><div id="root"></div><script type="module" src="${src}"></script>`

/** The code blocks of the README's React section, in order: `[lang, code]`. */
function readmeReactBlocks(): Array<[string, string]> {
  const readme = readFileSync(`${REPO}README.md`, 'utf8')
  const section = readme.slice(readme.indexOf('\n## React\n'), readme.indexOf('\n## ', readme.indexOf('\n## React\n') + 1))
  return [...section.matchAll(/```(\w+)\n([\s\S]*?)```/g)].map((m) => [m[1] ?? '', m[2] ?? ''])
}

async function bundleApp(): Promise<string> {
  const result = await build({
    entryPoints: [APP],
    bundle: true,
    format: 'esm',
    platform: 'browser',
    target: 'es2020',
    jsx: 'automatic',
    alias: sourceAliases,
    define: { 'process.env.NODE_ENV': '"development"' },
    write: false,
  })
  const [out] = result.outputFiles
  if (!out) throw new Error('esbuild wrote nothing')
  return out.text
}

describe('React hooks (Chromium end-to-end)', () => {
  let herald: HeraldProcess
  let app: CreatedApp
  let browser: Browser
  let page: Page
  let pageErrors: string[]
  let sockets: number
  let site: Server
  let siteUrl: string
  const scripts: Record<string, string> = {}

  const stats = async () => {
    const res = await fetch(`${herald.url}/admin/v1/apps/${app.appId}/stats`, { headers: { authorization: `Bearer ${herald.adminToken}` } })
    return ((await res.json()) as { stats: { connections: number; subscriptions: number } }).stats
  }
  const subscribers = async (channel: string) => {
    const res = await fetch(`${herald.url}/v1/apps/${app.appId}/channels`, { headers: { authorization: app.basic } })
    const list = ((await res.json()) as { channels: Array<{ name: string; subscribers: number }> }).channels
    return list.find((c) => c.name === channel)?.subscribers ?? 0
  }
  const mount = (widget: { id: string; kind: 'feed' | 'presence'; channel: string; rewind?: number }) => page.evaluate((w) => window.hooks.mount(w), widget)
  const unmount = (id: string) => page.evaluate((i) => window.hooks.unmount(i), id)
  const feed = (id: string) => page.getByTestId(`feed-${id}`)
  const lines = async (id: string) => feed(id).locator('li').allInnerTexts()

  beforeAll(async () => {
    // The page comes from its own small server on 127.0.0.1 (another origin than Herald's,
    // as an app's would), from memory: nothing is written to the repository.
    const script = await bundleApp()
    execFileSync(process.execPath, [CHAT_BUILD], { stdio: 'pipe' }) // the chat example from the current sources
    scripts['/app.js'] = script
    site = createServer((req, res) => {
      const path = new URL(req.url ?? '/', 'http://x').pathname
      const js = scripts[path]
      if (js !== undefined) res.writeHead(200, { 'content-type': 'text/javascript' }).end(js)
      else res.writeHead(200, { 'content-type': 'text/html' }).end(html(path === '/readme/' ? '/readme.js' : '/app.js'))
    })
    await new Promise<void>((resolve) => site.listen(0, '127.0.0.1', resolve))
    siteUrl = `http://127.0.0.1:${(site.address() as AddressInfo).port}`
    herald = await startHerald()
    app = await createApp(herald)
    browser = await chromium.launch({
      executablePath: process.env.CHROMIUM_PATH ?? '/usr/bin/chromium',
      args: ['--no-sandbox', '--disable-gpu', '--disable-background-networking', '--disable-component-update', '--disable-sync', '--no-first-run'],
    })
  })

  afterAll(async () => {
    await browser?.close()
    await herald?.stop()
    await new Promise((resolve) => site?.close(resolve))
  })

  beforeEach(async () => {
    page = await browser.newPage()
    page.setDefaultTimeout(20_000)
    pageErrors = []
    sockets = 0
    page.on('websocket', () => sockets++)
    page.on('pageerror', (err) => pageErrors.push(err.message))
    // (Herald has no favicon: the browser's own request for it is no page error)
    page.on('console', (m) => m.type() === 'error' && !m.location().url.endsWith('/favicon.ico') && pageErrors.push(m.text()))
    const token = await signToken(app, { sub: 'alice', cap: { '*': ['subscribe', 'publish', 'history', 'presence'] } })
    await page.goto(`${siteUrl}/?url=${encodeURIComponent(herald.url)}&appId=${app.appId}&token=${token}`)
    await page.getByTestId('status').getByText('connected via websocket').waitFor()
  })

  afterEach(async () => {
    await page.close()
    await until(async () => (await stats()).connections === 0, 20_000, 'the page to disconnect')
    expect(pageErrors).toEqual([])
  })

  it('opens one connection for the whole page, even under StrictMode', async () => {
    await mount({ id: 'a', kind: 'feed', channel: 'chat' })
    await mount({ id: 'p', kind: 'presence', channel: 'presence-lobby' })
    await feed('a').and(page.locator('[data-state="subscribed"]')).waitFor()
    await page.getByTestId('presence-p').and(page.locator('[data-synced="true"]')).waitFor()
    expect(sockets).toBe(1)
    await until(async () => (await stats()).subscriptions === 2, 20_000, 'two subscriptions')
    expect((await stats()).connections).toBe(1)
  })

  it('shows rewound and live messages, and publishes through the hook', async () => {
    for (const text of ['one', 'two']) expect((await publish(herald, app, { channel: 'chat', data: { text } })).status).toBe(200)
    await mount({ id: 'a', kind: 'feed', channel: 'chat', rewind: 10 })
    await feed('a').and(page.locator('[data-state="subscribed"]')).waitFor()
    await until(async () => (await lines('a')).length === 2, 20_000, 'the rewound messages')
    expect(await lines('a')).toEqual(['server: one', 'server: two'])

    expect((await publish(herald, app, { channel: 'chat', data: { text: 'live' } })).status).toBe(200)
    await feed('a').getByText('server: live', { exact: true }).waitFor()

    await page.getByLabel('message-a').fill('from the page')
    await page.getByRole('button', { name: 'send-a' }).click()
    await feed('a').getByText('sent #4').waitFor()
    await feed('a').getByText('alice: from the page', { exact: true }).waitFor()
    expect(await lines('a')).toEqual(['server: one', 'server: two', 'server: live', 'alice: from the page'])
  })

  it('shares one subscription between components and releases it when the last one unmounts', async () => {
    await mount({ id: 'a', kind: 'feed', channel: 'shared' })
    await mount({ id: 'b', kind: 'feed', channel: 'shared' })
    await mount({ id: 'c', kind: 'feed', channel: 'other' })
    await feed('a').and(page.locator('[data-state="subscribed"]')).waitFor()
    await feed('b').and(page.locator('[data-state="subscribed"]')).waitFor()
    await feed('c').and(page.locator('[data-state="subscribed"]')).waitFor()
    await until(async () => (await stats()).subscriptions === 2, 20_000, 'two subscriptions')
    expect(await subscribers('shared')).toBe(1)

    expect((await publish(herald, app, { channel: 'shared', data: { text: 'to both' } })).status).toBe(200)
    await feed('a').getByText('server: to both', { exact: true }).waitFor()
    await feed('b').getByText('server: to both', { exact: true }).waitFor()

    await unmount('a')
    await feed('a').waitFor({ state: 'detached' })
    // b still gets messages (an unsubscribe sent at a's unmount would be ahead of this one)
    expect((await publish(herald, app, { channel: 'shared', data: { text: 'to b' } })).status).toBe(200)
    await feed('b').getByText('server: to b', { exact: true }).waitFor()
    expect(await subscribers('shared')).toBe(1)

    await unmount('b')
    await until(async () => (await subscribers('shared')) === 0, 20_000, 'the shared subscription to end')
    expect((await stats()).subscriptions).toBe(1)
    expect((await stats()).connections).toBe(1)

    // Unmounting the provider closes its client: the server's connection count goes down.
    await page.evaluate(() => window.hooks.provider(false))
    await page.getByTestId('no-provider').waitFor()
    await until(async () => (await stats()).connections === 0, 20_000, 'the connection to close')
    expect((await stats()).subscriptions).toBe(0)
    expect(sockets).toBe(1)
  })

  it('shows presence members as they join and leave', async () => {
    await mount({ id: 'p', kind: 'presence', channel: 'presence-room' })
    const list = page.getByTestId('presence-p')
    await list.and(page.locator('[data-synced="true"]')).waitFor()
    await list.getByText('alice', { exact: true }).waitFor()

    const bobToken = await signToken(app, { sub: 'bob', cap: { 'presence-*': ['subscribe', 'presence'] } })
    const bob = await WsClient.connect(`${herald.wsUrl}/v1/apps/${app.appId}/ws?token=${bobToken}`)
    await bob.request({ op: 'subscribe', channel: 'presence-room' })
    await list.getByText('bob', { exact: true }).waitFor()
    expect(await list.locator('li').allInnerTexts()).toEqual(['alice', 'bob'])

    bob.close()
    await list.getByText('bob', { exact: true }).waitFor({ state: 'detached' })
    expect(await list.locator('li').allInnerTexts()).toEqual(['alice'])

    await unmount('p')
    await until(async () => (await subscribers('presence-room')) === 0, 20_000, 'the presence subscription to end')
  })

  it('runs the chat example on the hooks: the last messages on load, then live ones, and sending', async () => {
    for (const text of ['earlier 1', 'earlier 2']) expect((await publish(herald, app, { channel: 'room-9', data: { text } })).status).toBe(200)
    const token = await signToken(app, { sub: 'carol', cap: { 'room-9': ['subscribe', 'publish'] } })
    await page.goto(`${herald.url}/examples/chat/?appId=${app.appId}&token=${token}&channel=room-9`)
    await page.locator('#status[data-state="connected"]').waitFor()
    expect(await page.locator('#status').textContent()).toBe('connected via websocket')
    await until(async () => (await page.locator('#messages li').count()) === 2, 20_000, 'the rewound messages')
    const shown = () =>
      page.evaluate(() => [...document.querySelectorAll('#messages li')].map((li) => [li.querySelector('.who')?.textContent, li.lastChild?.textContent]))
    expect(await shown()).toEqual([
      ['server', 'earlier 1'],
      ['server', 'earlier 2'],
    ])
    expect((await publish(herald, app, { channel: 'room-9', data: { text: 'live one' } })).status).toBe(200)
    await page.locator('#messages li', { hasText: 'live one' }).waitFor()
    await page.locator('#text').fill('hello from carol')
    await page.locator('button[type=submit]').click()
    await page.locator('#messages li', { hasText: 'hello from carol' }).waitFor()
    expect((await shown()).at(-1)).toEqual(['carol', 'hello from carol'])
    expect(await page.locator('#text').inputValue()).toBe('')
  })

  it("runs the README's React section as written: the token command, then the app", async () => {
    const blocks = readmeReactBlocks()
    expect(blocks.map(([lang]) => lang)).toEqual(['sh', 'tsx'])
    const [[, sh], [, tsx]] = blocks as [[string, string], [string, string]]
    const ours = (text: string) =>
      text.replaceAll('http://127.0.0.1:8080', herald.url).replaceAll('APP_ID', app.appId).replaceAll('KEY_ID', app.keyId).replaceAll('SECRET', app.secret)
    const token = execFileSync('sh', ['-c', ours(sh)], { cwd: REPO, encoding: 'utf8' }).trim()
    expect(token.split('.')).toHaveLength(3)

    const result = await build({
      stdin: { contents: ours(tsx), loader: 'tsx', resolveDir: REPO },
      bundle: true,
      format: 'esm',
      platform: 'browser',
      jsx: 'automatic',
      alias: sourceAliases,
      define: { 'process.env.NODE_ENV': '"development"' },
      write: false,
    })
    scripts['/readme.js'] = result.outputFiles[0]?.text ?? ''
    expect((await publish(herald, app, { channel: 'chat', data: { text: 'before' } })).status).toBe(200)
    await page.goto(`${siteUrl}/readme/?appId=${app.appId}&token=${token}`)
    await page.getByText('connected via websocket, 1 here').waitFor()
    await page.getByText('server: before', { exact: true }).waitFor()
    await page.getByRole('button', { name: 'Say hello' }).click()
    await page.getByText('ann: hello', { exact: true }).waitFor()
  })
})
