import { decodeProtectedHeader, jwtVerify } from 'jose'
import { existsSync, readFileSync } from 'node:fs'
import { createServer, type Server } from 'node:http'
import type { AddressInfo } from 'node:net'
import { fileURLToPath } from 'node:url'
import { chromium, type Browser, type Page } from 'playwright-core'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { createApp, startHerald, type CreatedApp, type HeraldProcess } from './support/herald.js'

/**
 * `@herald/node` promises to run without Node APIs (fetch + WebCrypto only), as on edge
 * runtimes. This runs its built files, unbundled, in Chromium: a web runtime with no `node:`
 * modules, no Buffer and no process, against a real service on another origin.
 */
const ROOT = fileURLToPath(new URL('../../../', import.meta.url))
const SERVED: Record<string, string> = {
  '/sdk/': 'sdks/node/dist/',
  '/protocol/': 'sdks/protocol/dist/',
  '/jose/': 'node_modules/jose/dist/webapi/',
}
const PAGE = `<!doctype html><meta charset="utf-8"><script type="importmap">${JSON.stringify({
  imports: { '@herald/node': '/sdk/index.js', '@herald/protocol': '/protocol/index.js', jose: '/jose/index.js' },
})}</script><script type="module">import * as sdk from '@herald/node'; window.sdk = sdk</script><title>sdk</title>`

/** The SDK module as the page loaded it. */
type Sdk = typeof import('@herald/node')
declare const window: { sdk: Sdk }

function startStatic(): Promise<{ url: string; server: Server }> {
  const server = createServer((req, res) => {
    const path = new URL(req.url ?? '/', 'http://x').pathname
    if (path === '/') return void res.writeHead(200, { 'content-type': 'text/html' }).end(PAGE)
    const prefix = Object.keys(SERVED).find((p) => path.startsWith(p))
    const file = prefix && ROOT + SERVED[prefix] + path.slice(prefix.length)
    if (!file || file.includes('..') || !existsSync(file)) return void res.writeHead(404).end()
    res.writeHead(200, { 'content-type': 'text/javascript' }).end(readFileSync(file))
  })
  return new Promise((resolve) => server.listen(0, '127.0.0.1', () => resolve({ url: `http://127.0.0.1:${(server.address() as AddressInfo).port}`, server })))
}

let h: HeraldProcess
let app: CreatedApp
let browser: Browser
let page: Page
let staticServer: Server | undefined

beforeAll(async () => {
  if (!existsSync(ROOT + 'sdks/node/dist/index.js')) throw new Error('build the SDK first: npm run build -w @herald/node')
  h = await startHerald()
  app = await createApp(h)
  const stat = await startStatic()
  staticServer = stat.server
  browser = await chromium.launch({
    executablePath: process.env.CHROMIUM_PATH ?? '/usr/bin/chromium',
    args: ['--no-sandbox', '--disable-gpu', '--disable-background-networking', '--disable-component-update', '--disable-sync', '--no-first-run'],
  })
  page = await browser.newPage()
  await page.goto(stat.url + '/')
  await page.waitForFunction(() => window.sdk !== undefined)
})

afterAll(async () => {
  await browser?.close()
  await new Promise<void>((resolve) => (staticServer ? staticServer.close(() => resolve()) : resolve()))
  await h?.stop()
})

describe('@herald/node in a web runtime (Chromium, no Node APIs)', () => {
  it('signs tokens and publishes to a real service', async () => {
    const out = await page.evaluate(
      async ({ url, appId, keyId, secret }) => {
        const { Herald } = window.sdk
        const herald = new Herald({ url, appId, keyId, secret })
        const token: string = await herald.createToken({ clientId: 'edge', capability: { 'edge:*': ['subscribe'] }, ttlSeconds: 120 })
        const published = await herald.publish('edge:1', { from: 'browser' }, { name: 'hello' })
        const history = await herald.history('edge:1')
        return { token, published, history, hasBuffer: 'Buffer' in globalThis, hasProcess: 'process' in globalThis }
      },
      { url: h.url, appId: app.appId, keyId: app.keyId, secret: app.secret },
    )
    expect(out.hasBuffer).toBe(false)
    expect(out.hasProcess).toBe(false)
    expect(decodeProtectedHeader(out.token)).toEqual({ alg: 'HS256', kid: app.keyId })
    const { payload } = await jwtVerify(out.token, new TextEncoder().encode(app.secret))
    expect(payload).toMatchObject({ sub: 'edge', cap: { 'edge:*': ['subscribe'] } })
    expect(out.published).toMatchObject({ channel: 'edge:1', seq: 1, id: expect.stringMatching(/^sdk_/) })
    expect(out.history.messages).toEqual([expect.objectContaining({ name: 'hello', data: { from: 'browser' }, id: out.published.id })])
  })

  it('reports service errors as HeraldError across origins', async () => {
    const out = await page.evaluate(
      async ({ url, appId, keyId }) => {
        const { Herald, HeraldError } = window.sdk
        const herald = new Herald({ url, appId, keyId, secret: 'wrong', retries: 0 })
        try {
          await herald.publish('edge:1', 1)
          return null
        } catch (e) {
          return { isHeraldError: e instanceof HeraldError, code: (e as { code: string }).code, status: (e as { status: number }).status }
        }
      },
      { url: h.url, appId: app.appId, keyId: app.keyId },
    )
    expect(out).toEqual({ isHeraldError: true, code: 'unauthorized', status: 401 })
  })
})
