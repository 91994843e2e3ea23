import { mkdirSync } from 'node:fs'
import { fileURLToPath } from 'node:url'
import { type Browser, chromium, type Page } from 'playwright-core'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { createApp, type CreatedApp, type HeraldProcess, startHerald } from './support/herald.js'
import { type Receiver, startReceiver } from './support/receiver.js'
import { until } from './support/ws-client.js'

/** `artifacts/screenshots/` at the repo root (git-ignored). */
const SCREENSHOTS = fileURLToPath(new URL('../../../artifacts/screenshots/', import.meta.url))

async function screenshot(page: Page, name: string): Promise<void> {
  mkdirSync(SCREENSHOTS, { recursive: true })
  await page.screenshot({ path: `${SCREENSHOTS}${name}.png`, fullPage: true })
}

/**
 * The dashboard's webhook settings, test button and delivery log in a real Chromium against
 * a real Herald process and real receivers on 127.0.0.1. Steps share one tab, in order.
 */
describe('dashboard webhooks (browser end-to-end)', () => {
  let herald: HeraldProcess
  let browser: Browser
  let page: Page
  let app: CreatedApp
  let ok: Receiver
  let failing: Receiver
  const problems: string[] = []

  const settings = async () => {
    const res = await fetch(`${herald.url}/admin/v1/apps/${app.appId}`, { headers: { authorization: `Bearer ${herald.adminToken}` } })
    return ((await res.json()) as { app: { settings: { webhooks: unknown[]; clientEvents: boolean } } }).app.settings
  }
  const panel = () => page.getByRole('region', { name: 'Webhooks' })

  beforeAll(async () => {
    ok = await startReceiver()
    failing = await startReceiver()
    failing.respond = () => 500
    herald = await startHerald({ env: { HERALD_WEBHOOK_BACKOFF_MS: '100', HERALD_WEBHOOK_MAX_BACKOFF_MS: '500' } })
    app = await createApp(herald, {}, 'Webhook Shop')
    browser = await chromium.launch({
      executablePath: process.env.CHROMIUM_PATH ?? '/usr/bin/chromium',
      args: ['--no-sandbox', '--disable-gpu', '--disable-background-networking', '--disable-component-update', '--disable-sync', '--no-first-run'],
    })
    page = await browser.newPage({ viewport: { width: 1280, height: 900 } })
    page.setDefaultTimeout(20_000)
    page.on('pageerror', (err) => problems.push(`pageerror: ${err.message}`))
    page.on('console', (msg) => {
      // The 400 the service answers for a refused URL is expected; anything else is a problem.
      if (msg.type() === 'error' && !/status of 400/.test(msg.text())) problems.push(`console: ${msg.text()}`)
    })
  })

  afterAll(async () => {
    await browser?.close()
    await herald?.stop()
    await ok?.close()
    await failing?.close()
  })

  it('signs in and opens the Webhooks tab of the app', async () => {
    await page.goto(`${herald.url}/dashboard/`)
    await page.getByLabel('Admin token').fill(herald.adminToken)
    await page.getByRole('button', { name: 'Sign in' }).click()
    await page.getByRole('heading', { name: 'Apps', level: 1 }).waitFor()
    await page.goto(`${herald.url}/dashboard/apps/${app.appId}/webhooks`)
    await page.getByRole('heading', { name: 'Webhooks', level: 2 }).waitFor()
    await panel().getByText('No webhooks yet.').waitFor()
    await panel().getByText('No deliveries yet.').waitFor()
    expect(await page.getByRole('button', { name: 'Send test event' }).isDisabled()).toBe(true)
  })

  it('checks URLs and event choices in the form before saving', async () => {
    await page.getByRole('button', { name: 'Add webhook' }).click()
    await page.getByLabel('URL').fill('ftp://files.example/hook')
    await page.getByRole('button', { name: 'Save webhooks' }).click()
    await panel().getByText('Enter an http:// or https:// URL.').waitFor()
    await page.getByLabel('URL').fill(ok.url)
    await page.getByLabel('All events').uncheck()
    await page.getByRole('button', { name: 'Save webhooks' }).click()
    await panel().getByText('Pick at least one event, or all events.').waitFor()
    expect((await settings()).webhooks).toEqual([])
  })

  it('shows the service refusing a link-local URL, and saves nothing', async () => {
    await page.getByLabel('URL').fill('http://169.254.169.254/latest/meta-data')
    await page.getByLabel('All events').check()
    await page.getByRole('button', { name: 'Save webhooks' }).click()
    const alert = panel().getByRole('alert')
    await alert.waitFor()
    expect(await alert.textContent()).toMatch(/settings\.webhooks\.0\.url: .*link-local/)
    await screenshot(page, 'webhooks-link-local-1280')
    expect((await settings()).webhooks).toEqual([])
  })

  it('saves two webhooks, one with an event filter', async () => {
    await page.getByLabel('URL').fill(ok.url)
    await page.getByLabel('All events').uncheck()
    await page.getByRole('listitem', { name: 'Webhook 1' }).getByLabel('channel_occupied').check()
    await page.getByRole('listitem', { name: 'Webhook 1' }).getByLabel('channel_vacated').check()
    await page.getByRole('button', { name: 'Add webhook' }).click()
    await page.getByRole('listitem', { name: 'Webhook 2' }).getByLabel('URL').fill(failing.url)
    await page.getByRole('button', { name: 'Save webhooks' }).click()
    await panel().getByText('Webhooks saved.').waitFor()
    expect((await settings()).webhooks).toEqual([{ url: ok.url, events: ['channel_occupied', 'channel_vacated'] }, { url: failing.url }])
  })

  it('sends a test event and shows each delivery: time, URL, events, status, attempt, latency', async () => {
    await page.getByRole('button', { name: 'Send test event' }).click()
    await panel().getByText('Test event queued for 2 webhooks').waitFor()
    await until(() => ok.delivered().length === 1 && failing.calls.length >= 2, 15_000, 'the test POSTs')
    const table = page.getByRole('table')
    await table.getByRole('row').filter({ hasText: ok.url }).filter({ hasText: 'delivered (HTTP 200)' }).waitFor()
    await table.getByRole('row').filter({ hasText: failing.url }).filter({ hasText: 'retrying (HTTP 500)' }).first().waitFor()
    const row = table.getByRole('row').filter({ hasText: ok.url })
    const cells = await row.getByRole('cell').allInnerTexts()
    expect(cells[0]).toMatch(/^\d\d:\d\d:\d\d$/)
    expect(cells.slice(1, 5)).toEqual([ok.url, 'channel_occupied, channel_vacated', 'delivered (HTTP 200)', '1'])
    expect(cells[5]).toMatch(/^\d+ ms$/)
    await panel()
      .getByText(/POSTs? waiting in the outbox/)
      .waitFor()
    await screenshot(page, 'webhooks-deliveries-1280')
    await page.setViewportSize({ width: 390, height: 844 })
    await screenshot(page, 'webhooks-deliveries-390')
    await page.setViewportSize({ width: 1280, height: 900 })
  })

  it('removes a webhook', async () => {
    await page.getByRole('button', { name: 'Remove webhook 2' }).click()
    await page.getByRole('button', { name: 'Save webhooks' }).click()
    await panel().getByText('Webhooks saved.').waitFor()
    expect((await settings()).webhooks).toEqual([{ url: ok.url, events: ['channel_occupied', 'channel_vacated'] }])
  })

  it('turns client events on in the Settings tab', async () => {
    await page.getByRole('navigation', { name: 'App sections' }).getByRole('link', { name: 'Settings' }).click()
    await page.getByRole('region', { name: 'Settings' }).waitFor()
    const box = page.getByLabel('Client events')
    expect(await box.isChecked()).toBe(false)
    await box.check()
    await page.getByRole('button', { name: 'Save settings' }).click()
    await page.getByText('Settings saved.').waitFor()
    expect((await settings()).clientEvents).toBe(true)
  })

  it('reported no page errors', () => {
    expect(problems).toEqual([])
  })
})
