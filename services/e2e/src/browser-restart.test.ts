import { execFileSync } from 'node:child_process'
import { fileURLToPath } from 'node:url'
import { chromium, type Browser, type Page } from 'playwright-core'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { createApp, publish, startHerald, type CreatedApp, type HeraldProcess } from './support/herald.js'

/**
 * The service restarts (SIGTERM, then a new process on the same port and data directory)
 * while a page is subscribed. The embedded default keeps history in SQLite: the page resumes
 * in the same epoch, `recovered: true`, and no `unrecovered` event. With
 * `HERALD_HISTORY=memory` history lived in the process, so the channel's epoch changes across
 * the restart, and the SDK must say that its resume was not complete (`recovered: false` and
 * an `unrecovered` event) instead of silently going on. Either way, every message published
 * while the page was connected arrives exactly once, in order.
 */

const BUNDLE_SCRIPT = fileURLToPath(new URL('../../../sdks/browser/scripts/bundle.mjs', import.meta.url))

interface Log {
  states: Array<{ current: string; reason: string }>
  data: unknown[]
  epochs: string[]
  subscribed: Array<{ recovered: boolean; resumed: boolean; epoch: string }>
  unrecovered: Array<{ epoch: string; previous: { epoch: string; seq: number } }>
}

for (const history of ['sqlite', 'memory'] as const)
  describe(`browser SDK across a service restart, HERALD_HISTORY=${history} (Chromium end-to-end)`, () => {
    const env = { HERALD_HISTORY: history }
    let herald: HeraldProcess
    let app: CreatedApp
    let browser: Browser

    beforeAll(async () => {
      execFileSync(process.execPath, [BUNDLE_SCRIPT], { stdio: 'pipe' })
      herald = await startHerald({ env })
      app = await createApp(herald)
      browser = await chromium.launch({
        executablePath: process.env.CHROMIUM_PATH ?? '/usr/bin/chromium',
        args: ['--no-sandbox', '--disable-gpu', '--disable-background-networking', '--disable-component-update', '--disable-sync', '--no-first-run'],
      })
    })

    afterAll(async () => {
      await browser?.close()
      await herald?.stop()
    })

    const log = (page: Page) => page.evaluate(() => (window as any).log as Log)
    const until = (page: Page, predicate: string, timeout = 45_000) =>
      page.waitForFunction(`(() => { const log = window.log, client = window.client; return ${predicate} })()`, undefined, { timeout, polling: 50 })

    for (const transport of ['websocket', 'sse', 'longpoll'] as const) {
      it(`misses nothing it could have had, and ${history === 'sqlite' ? 'resumes in the same epoch' : 'reports the lost history'} (${transport})`, async () => {
        const channel = `feed-${transport}`
        const page = await browser.newPage()
        const pageErrors: string[] = []
        page.on('pageerror', (err) => pageErrors.push(err.message))
        try {
          await page.goto(`${herald.url}/examples/chat/`)
          await page.evaluate(
            ({ appId, channel, transport }) => {
              const w = window as any
              const log: Log = { states: [], data: [], epochs: [], subscribed: [], unrecovered: [] }
              // backoff capped low so the test does not wait out a 20 s ceiling
              const client = new w.Herald.Client({ url: location.origin, appId, transports: [transport], backoff: { cap: 2000 } })
              client.on('state', (s: Log['states'][number]) => log.states.push(s))
              const sub = client.subscribe(channel, (m: { data: unknown; epoch: string }) => {
                log.data.push(m.data)
                log.epochs.push(m.epoch)
              })
              sub.on('subscribed', (s: Log['subscribed'][number]) => log.subscribed.push(s))
              sub.on('unrecovered', (u: Log['unrecovered'][number]) => log.unrecovered.push(u))
              w.client = client
              w.log = log
            },
            { appId: app.appId, channel, transport },
          )
          await until(page, `log.subscribed.length === 1`)
          for (let i = 1; i <= 5; i++) expect((await publish(herald, app, { channel, data: i })).status).toBe(200)
          await until(page, `log.data.length === 5`)

          const { port, dataDir, adminToken } = herald
          const stopped = await herald.stop('SIGTERM')
          expect(stopped.code).toBe(0)
          await until(page, `client.state !== 'connected'`)
          herald = await startHerald({ port, dataDir, adminToken, env })
          // Back on the same port: the page reconnects by itself and resubscribes.
          await until(page, `client.state === 'connected' && log.subscribed.length === 2`)
          for (let i = 6; i <= 10; i++) expect((await publish(herald, app, { channel, data: i })).status).toBe(200)
          await until(page, `log.data.length >= 10`)

          const l = await log(page)
          expect(l.data).toEqual([1, 2, 3, 4, 5, 6, 7, 8, 9, 10])
          expect(connectedOver(l)).toEqual([transport])
          const before = l.epochs[0]!
          const after = l.epochs[9]!
          if (history === 'sqlite') {
            // History is on disk: the page resumes where it was, in the same epoch.
            expect(l.epochs.every((e) => e === before)).toBe(true)
            expect(l.subscribed[1]).toMatchObject({ resumed: true, recovered: true, epoch: before })
            expect(l.unrecovered).toEqual([])
          } else {
            // History was in memory: it was lost with the process,
            // and the SDK must say so rather than resume as if nothing happened.
            expect(after).not.toBe(before)
            expect(l.epochs.slice(0, 5).every((e) => e === before) && l.epochs.slice(5).every((e) => e === after)).toBe(true)
            expect(l.subscribed[1]).toMatchObject({ resumed: true, recovered: false, epoch: after })
            expect(l.unrecovered).toEqual([expect.objectContaining({ epoch: after, previous: { epoch: before, seq: 5 } })])
          }
          expect(l.states.map((s) => s.current)).toEqual(expect.arrayContaining(['connecting', 'connected', 'disconnected']))
          expect(l.states.at(-1)!.current).toBe('connected')
          expect(pageErrors).toEqual([])
        } finally {
          await page.close()
        }
      }, 120_000)
    }
  })

/** The transports the page reported being connected over. */
function connectedOver(l: Log): string[] {
  return [...new Set(l.states.filter((s) => s.current === 'connected').map((s) => s.reason))]
}
