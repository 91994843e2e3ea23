import { chromium, type Browser, type Page } from 'playwright-core'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { createApp, startHerald, type CreatedApp, type HeraldProcess } from './support/herald.js'

/** The app page's Pusher credentials panel, in a real Chromium against a real Herald process. */
describe('dashboard: Pusher credentials (browser end-to-end)', () => {
  let herald: HeraldProcess
  let browser: Browser
  let page: Page
  let app: CreatedApp
  const problems: string[] = []

  beforeAll(async () => {
    herald = await startHerald()
    app = await createApp(herald, {}, 'Pusher panel')
    browser = await chromium.launch({
      executablePath: process.env.CHROMIUM_PATH ?? '/usr/bin/chromium',
      args: ['--no-sandbox', '--disable-gpu', '--disable-background-networking', '--disable-component-update', '--disable-sync', '--no-first-run'],
    })
    page = await browser.newPage({ viewport: { width: 1280, height: 800 } })
    page.setDefaultTimeout(20_000)
    page.on('pageerror', (err) => problems.push(`pageerror: ${err.message}`))
    page.on('console', (msg) => {
      if (msg.type() === 'error') problems.push(`console: ${msg.text()}`)
    })
  })

  afterAll(async () => {
    await browser?.close()
    await herald?.stop()
  })

  it("shows the app's app_id, key, host and port, and the secret only when asked", async () => {
    await page.goto(`${herald.url}/dashboard/`)
    await page.getByLabel('Admin token').fill(herald.adminToken)
    await page.keyboard.press('Enter')
    await page.getByRole('heading', { name: 'Apps', level: 1 }).waitFor()
    await page.goto(`${herald.url}/dashboard/apps/${app.appId}/quickstart`)
    const panel = page.getByRole('region', { name: 'Pusher credentials' })
    await panel.waitFor()
    const value = (name: string) => panel.locator(`[data-pusher="${name}"]`).innerText()
    expect(await value('app_id')).toBe(app.appId)
    expect(await value('key')).toBe(app.keyId)
    expect(await value('host')).toBe('127.0.0.1')
    expect(await value('port')).toBe(String(herald.port))
    expect(await value('scheme')).toBe('http')
    expect(await panel.innerText()).not.toContain(app.secret)

    const echo = page.getByLabel('Laravel Echo', { exact: true })
    expect(await echo.innerText()).toContain(`key: '${app.keyId}'`)
    expect(await echo.innerText()).toContain(`wsPort: ${herald.port}`)

    await panel.getByLabel(/Show the secret/).check()
    expect(await value('secret')).toBe(app.secret)
    expect(await page.getByLabel('Laravel .env', { exact: true }).innerText()).toContain(`PUSHER_APP_SECRET=${app.secret}`)
    expect(problems).toEqual([])
  })
})
