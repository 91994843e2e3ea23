import { mkdirSync } from 'node:fs'
import { fileURLToPath } from 'node:url'
import { chromium, type Browser, type Page } from 'playwright-core'
import { WebSocket } from 'ws'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { createApp, publish, startHerald, type CreatedApp, type HeraldProcess } from './support/herald.js'

/** `artifacts/screenshots/` at the repo root (git-ignored). */
const SCREENSHOTS = fileURLToPath(new URL('../../../artifacts/screenshots/', import.meta.url))

/** Launches the Debian Chromium headless with the shop's flags. */
async function launchChromium(): Promise<Browser> {
  return chromium.launch({
    executablePath: process.env.CHROMIUM_PATH ?? '/usr/bin/chromium',
    args: ['--no-sandbox', '--disable-gpu', '--disable-background-networking', '--disable-component-update', '--disable-sync', '--no-first-run'],
  })
}

/**
 * Collects what a page reports as going wrong: uncaught errors, console errors
 * (CSP violations among them) and failed requests.
 */
function watchPage(page: Page): { problems: string[] } {
  const problems: string[] = []
  page.on('pageerror', (err) => problems.push(`pageerror: ${err.message}`))
  page.on('console', (msg) => {
    if (msg.type() === 'error') problems.push(`console: ${msg.text()}`)
  })
  return { problems }
}

async function screenshot(page: Page, name: string): Promise<void> {
  mkdirSync(SCREENSHOTS, { recursive: true })
  await page.screenshot({ path: `${SCREENSHOTS}${name}.png`, fullPage: true })
}

/**
 * The dashboard in a real Chromium against a real Herald process: sign-in, apps, keys,
 * settings, debug console, live stats, quick start, delete, sign-out, at 1280 and 390 px.
 * Steps run in order and share one tab, as a user would.
 */
describe('dashboard (browser end-to-end)', () => {
  let herald: HeraldProcess
  let browser: Browser
  let page: Page
  let problems: string[]
  const appName = 'E2E Shop ' + Math.random().toString(36).slice(2, 6)
  let appId = ''

  const admin = async (method: string, path: string, body?: unknown) => {
    const res = await fetch(herald.url + path, {
      method,
      headers: { authorization: `Bearer ${herald.adminToken}`, 'content-type': 'application/json' },
      body: body === undefined ? undefined : JSON.stringify(body),
    })
    return { status: res.status, body: res.status === 204 ? null : ((await res.json()) as any) }
  }
  const appKeys = async () =>
    (await admin('GET', `/admin/v1/apps/${appId}`)).body.keys as { keyId: string; secret: string; label?: string; revokedAt?: string }[]
  const firstKey = async (): Promise<CreatedApp> => {
    const k = (await appKeys()).find((x) => !x.revokedAt)!
    return { appId, keyId: k.keyId, secret: k.secret, basic: 'Basic ' + Buffer.from(`${k.keyId}:${k.secret}`).toString('base64') }
  }
  const tab = async (name: string) => {
    await page.getByRole('navigation', { name: 'App sections' }).getByRole('link', { name }).click()
    await page.getByRole('region', { name }).waitFor()
  }

  beforeAll(async () => {
    herald = await startHerald()
    browser = await launchChromium()
    page = await browser.newPage({ viewport: { width: 1280, height: 800 } })
    page.setDefaultTimeout(20_000)
    ;({ problems } = watchPage(page))
  })

  afterAll(async () => {
    await browser?.close()
    await herald?.stop()
  })

  it('is served at /dashboard/ under the strict CSP, with SPA fallback', async () => {
    const res = await page.goto(`${herald.url}/dashboard/`)
    expect(res?.status(), 'is dashboard/dist built? npm run build -w @herald/dashboard').toBe(200)
    expect(res?.headers()['content-security-policy']).toContain("script-src 'self'")
    await page.getByLabel('Admin token').waitFor()
    const deep = await fetch(`${herald.url}/dashboard/apps/app_nothing/keys`)
    expect(deep.status).toBe(200)
    expect(await deep.text()).toContain('<div id="root">')
  })

  it('shows a wrong admin token as an error in words', async () => {
    await page.getByLabel('Admin token').fill('not-the-admin-token')
    await page.getByRole('button', { name: 'Sign in' }).click()
    const alert = page.getByRole('alert')
    await alert.waitFor()
    expect(await alert.innerText()).toMatch(/Sign-in failed\. Not authorised/)
    await screenshot(page, 'signin-error-1280')
  })

  it('signs in with the keyboard and keeps the session over a reload, without the token in the URL', async () => {
    await page.getByLabel('Admin token').fill('')
    await page.getByLabel('Admin token').focus()
    await page.keyboard.type(herald.adminToken)
    await page.keyboard.press('Enter')
    await page.getByRole('heading', { name: 'Apps', level: 1 }).waitFor()
    await page.reload()
    await page.getByRole('heading', { name: 'Apps', level: 1 }).waitFor()
    expect(page.url()).not.toContain(herald.adminToken)
    expect(await page.evaluate(() => Object.values(sessionStorage))).toContain(herald.adminToken)
  })

  it('creates an app and lists it with its live connection count', async () => {
    await page.getByLabel('New app name').fill(appName)
    await page.getByRole('button', { name: 'Create app' }).click()
    await page.getByRole('heading', { name: appName, level: 1 }).waitFor()
    appId = (await page.locator('.app-id code').innerText()).trim()
    expect(appId).toMatch(/^app_/)
    expect(page.url()).toBe(`${herald.url}/dashboard/apps/${appId}/keys`)
    const { body } = await admin('GET', '/admin/v1/apps')
    expect(body.apps.map((a: { id: string; name: string }) => [a.id, a.name])).toContainEqual([appId, appName])

    await page.getByRole('link', { name: 'Apps' }).first().click()
    const item = page.getByRole('listitem').filter({ hasText: appId })
    await item.waitFor()
    const count = item.getByTestId('app-connections')
    expect(await count.innerText()).toBe('0')
    // Two anonymous WebSocket clients connect; the list (refreshed every 5 s) shows them.
    const sockets = [0, 1].map(() => new WebSocket(`${herald.wsUrl}/v1/apps/${appId}/ws`))
    try {
      await Promise.all(
        sockets.map(
          (s) =>
            new Promise((resolve, reject) => {
              s.onmessage = resolve
              s.onerror = reject
            }),
        ),
      )
      await expect.poll(() => count.innerText(), { timeout: 20_000, interval: 250 }).toBe('2')
      await screenshot(page, 'apps-1280')
    } finally {
      for (const s of sockets) s.close()
    }
    await expect.poll(() => count.innerText(), { timeout: 20_000, interval: 250 }).toBe('0')
    await item.getByRole('link', { name: appName }).click()
    await page.getByRole('heading', { name: appName, level: 1 }).waitFor()
  })

  it('creates a key with a label, reveals its secret, and revokes it after a confirmation', async () => {
    await tab('Keys')
    expect(await page.getByRole('region', { name: 'Keys' }).innerText()).toMatch(/closes every connection/)
    await page.getByLabel('Label (optional)').fill('backend')
    await page.getByRole('button', { name: 'Create key' }).click()
    const created = page.locator('li.key-item').filter({ hasText: 'backend' })
    await created.waitFor()
    const keyId = (await created.locator('.key-id').innerText()).trim()
    const apiKey = (await appKeys()).find((k) => k.keyId === keyId)!
    expect(apiKey.label).toBe('backend')
    expect(await created.locator('.secret').innerText()).not.toContain(apiKey.secret)
    await created.getByRole('button', { name: 'Reveal secret' }).click()
    expect(await created.locator('.secret').innerText()).toBe(apiKey.secret)
    await page.context().grantPermissions(['clipboard-read', 'clipboard-write'], { origin: herald.url })
    await created.getByRole('button', { name: 'Copy secret' }).click()
    await created.getByRole('button', { name: 'Copied' }).waitFor()
    expect(await page.evaluate(() => navigator.clipboard.readText())).toBe(apiKey.secret)
    await screenshot(page, 'keys-1280')

    // Keyboard: the dialog opens from a focused button, Escape cancels it and nothing is revoked.
    const revoke = created.getByRole('button', { name: 'Revoke…' })
    await revoke.focus()
    await page.keyboard.press('Enter')
    const dialog = page.getByRole('dialog', { name: 'Revoke this key?' })
    await dialog.waitFor()
    expect(await page.evaluate(() => document.activeElement?.closest('dialog') !== null)).toBe(true)
    await page.keyboard.press('Escape')
    await dialog.waitFor({ state: 'hidden' })
    expect((await appKeys()).find((k) => k.keyId === keyId)?.revokedAt).toBeUndefined()

    await revoke.click()
    await dialog.waitFor()
    expect(await dialog.innerText()).toContain(keyId)
    await dialog.getByRole('button', { name: 'Revoke key' }).click()
    await dialog.waitFor({ state: 'hidden' })
    await created.locator('.badge-revoked').waitFor()
    expect((await appKeys()).find((k) => k.keyId === keyId)?.revokedAt).toBeTruthy()
  })

  it('validates settings in the form and applies a change through the admin API', async () => {
    await tab('Settings')
    expect(await page.getByRole('region', { name: 'Settings' }).innerText()).toContain('Default: 100')
    await page.getByLabel(/^History size/).fill('many')
    await page.getByRole('button', { name: 'Save settings' }).click()
    await page.getByText('Enter a whole number.').waitFor()
    expect((await admin('GET', `/admin/v1/apps/${appId}`)).body.app.settings.historySize).toBe(100)

    await page.getByLabel(/^History size/).fill('42')
    await page.getByLabel(/^Allowed origins/).fill('https://shop.example\nhttp://127.0.0.1:5173')
    await page.getByRole('button', { name: 'Save settings' }).click()
    await page.getByText('Settings saved.').waitFor()
    const { settings } = (await admin('GET', `/admin/v1/apps/${appId}`)).body.app
    expect(settings.historySize).toBe(42)
    expect(settings.allowedOrigins).toEqual(['https://shop.example', 'http://127.0.0.1:5173'])
    expect(settings.maxConnections).toBe(10000)
    await screenshot(page, 'settings-1280')

    // The service's own origin is always allowed: the debug console still connects, while a
    // page on another origin (checked at the API below) is refused.
    await tab('Debug console')
    await page.getByRole('button', { name: 'Subscribe' }).click()
    await page.locator('[data-testid="debug-status"][data-subscribed="true"]').waitFor()
    await page.getByRole('button', { name: 'Unsubscribe' }).click()
    const foreign = await fetch(`${herald.url}/v1/apps/${appId}/poll?channels=x&wait=0`, { headers: { origin: 'https://evil.example' } })
    expect(foreign.status).toBe(403)
    await tab('Settings')

    // Put the wildcard back for the debug console below.
    await page.getByLabel(/^Allowed origins/).fill('*')
    await page.getByRole('button', { name: 'Save settings' }).click()
    await page.getByText('Settings saved.').waitFor()
    expect((await admin('GET', `/admin/v1/apps/${appId}`)).body.app.settings.allowedOrigins).toEqual(['*'])
  })

  it('renames the app', async () => {
    await page.getByLabel('App name', { exact: true }).fill(appName + ' renamed')
    await page.getByRole('button', { name: 'Rename' }).click()
    await page.getByRole('heading', { name: appName + ' renamed', level: 1 }).waitFor()
    expect((await admin('GET', `/admin/v1/apps/${appId}`)).body.app.name).toBe(appName + ' renamed')
    await page.getByLabel('App name', { exact: true }).fill(appName)
    await page.getByRole('button', { name: 'Rename' }).click()
    await page.getByRole('heading', { name: appName, level: 1 }).waitFor()
  })

  it('subscribes in the debug console, publishes a test message and sees it arrive live', async () => {
    await tab('Debug console')
    await page.getByLabel('Subscribe to channel').fill('e2e-debug')
    await page.getByRole('button', { name: 'Subscribe' }).click()
    await page.locator('[data-testid="debug-status"][data-subscribed="true"]').waitFor()

    await page.getByLabel('Data (JSON)').fill('{"broken": ')
    await page.getByRole('button', { name: 'Publish' }).click()
    await page.getByText(/Data is not valid JSON/).waitFor()

    await page.getByLabel('Event name (optional)').fill('greeting')
    await page.getByLabel('Data (JSON)').fill('{"text":"hello from e2e","n":7}')
    await page.getByRole('button', { name: 'Publish' }).click()
    await page.getByText(/Published to e2e-debug as #1\./).waitFor()
    const log = page.getByTestId('message-log')
    await log.getByText('hello from e2e').waitFor()
    expect(await log.innerText()).toContain('greeting')

    // A message from a server publisher shows up too.
    const r = await publish(herald, await firstKey(), { channel: 'e2e-debug', name: 'from-rest', data: { via: 'rest' } })
    expect(r.status).toBe(200)
    await log.getByText('from-rest').waitFor()
    expect(await log.locator('li.message').count()).toBe(2)
    await screenshot(page, 'debug-1280')
  })

  it('shows presence members of a presence channel', async () => {
    await page.getByRole('button', { name: 'Unsubscribe' }).click()
    await page.getByLabel('Subscribe to channel').fill('presence-room')
    await page.getByRole('button', { name: 'Subscribe' }).click()
    await page.locator('[data-testid="debug-status"][data-subscribed="true"]').waitFor()
    await page.getByTestId('presence-members').getByText('dashboard', { exact: true }).waitFor()
    const members = await fetch(`${herald.url}/v1/apps/${appId}/channels/presence-room/presence`, { headers: { authorization: (await firstKey()).basic } })
    expect(((await members.json()) as any).members.map((m: { clientId: string }) => m.clientId)).toContain('dashboard')
    await page.getByRole('button', { name: 'Unsubscribe' }).click()
  })

  it('charts live stats that move when messages are published', async () => {
    await tab('Live stats')
    const published = page.getByTestId('stat-published')
    await page.waitForFunction(() => Number(document.querySelector('[data-testid="stat-published"] svg')?.getAttribute('data-points')) >= 2)
    const key = await firstKey()
    let running = true
    const pump = (async () => {
      while (running) {
        await publish(herald, key, { channel: 'stats-load', data: { at: Date.now() } })
        await new Promise((r) => setTimeout(r, 100))
      }
    })()
    try {
      await page.waitForFunction(() => Number(document.querySelector('[data-testid="stat-published"] svg')?.getAttribute('data-last')) > 0, undefined, {
        timeout: 30_000,
      })
      expect(Number((await published.getByTestId('stat-published-value').innerText()).replace(/,/g, ''))).toBeGreaterThan(0)
    } finally {
      running = false
      await pump
    }
    expect(Number(await published.locator('svg').getAttribute('data-points'))).toBeGreaterThanOrEqual(3)
    await screenshot(page, 'stats-1280')
  })

  it('gives a quick start with the app id and key id filled in', async () => {
    await tab('Quick start')
    const region = page.getByRole('region', { name: 'Quick start' })
    const key = await firstKey()
    const all = await region.innerText()
    expect(all).toContain(`${herald.url}/sdk/herald.js`)
    expect(all).toContain(`appId: '${appId}'`)
    expect(all).toContain(`keyId: '${key.keyId}'`)
    expect(all).toContain(`${herald.url}/v1/apps/${appId}/messages`)
    expect(all).toContain("herald.publish('chat'")
    expect(all).not.toContain(key.secret)
    await screenshot(page, 'quickstart-1280')
  })

  it('lays out at 390 px wide without horizontal scrolling', async () => {
    await page.setViewportSize({ width: 390, height: 844 })
    const shots: [string, string][] = [
      ['Live stats', 'stats-390'],
      ['Keys', 'keys-390'],
      ['Settings', 'settings-390'],
      ['Debug console', 'debug-390'],
      ['Quick start', 'quickstart-390'],
    ]
    for (const [name, file] of shots) {
      await tab(name)
      expect(await page.evaluate(() => document.documentElement.scrollWidth)).toBeLessThanOrEqual(390)
      await screenshot(page, file)
    }
    await page.getByRole('link', { name: 'Apps' }).first().click()
    await page.getByRole('heading', { name: 'Apps', level: 1 }).waitFor()
    expect(await page.evaluate(() => document.documentElement.scrollWidth)).toBeLessThanOrEqual(390)
    await screenshot(page, 'apps-390')
    await page.setViewportSize({ width: 1280, height: 800 })
  })

  it('deletes the app only after its name is typed', async () => {
    await page.getByRole('listitem').filter({ hasText: appId }).getByRole('link').click()
    await tab('Settings')
    await page.getByRole('button', { name: 'Delete app…' }).click()
    const dialog = page.getByRole('dialog')
    await dialog.waitFor()
    const confirm = dialog.getByRole('button', { name: 'Delete app' })
    expect(await confirm.isDisabled()).toBe(true)
    await dialog.getByLabel(/Type .* to confirm/).fill(appName.slice(0, -1))
    expect(await confirm.isDisabled()).toBe(true)
    await dialog.getByLabel(/Type .* to confirm/).fill(appName)
    await confirm.click()
    await page.getByRole('heading', { name: 'Apps', level: 1 }).waitFor()
    expect((await admin('GET', `/admin/v1/apps/${appId}`)).status).toBe(404)
  })

  it('shows a visible focus ring when moving with the keyboard', async () => {
    await page.getByRole('heading', { name: 'Apps', level: 1 }).click()
    await page.getByLabel('New app name').focus()
    await page.keyboard.press('Tab')
    const focused = await page.evaluate(() => {
      const el = document.activeElement as HTMLElement
      const style = getComputedStyle(el)
      return { text: el.textContent, outline: style.outlineStyle, width: parseFloat(style.outlineWidth) }
    })
    expect(focused.text).toBe('Create app')
    expect(focused.outline).not.toBe('none')
    expect(focused.width).toBeGreaterThanOrEqual(2)
  })

  it('sends the user back to sign-in, saying why, when the server stops accepting the token', async () => {
    await page.evaluate(() => {
      for (const k of Object.keys(sessionStorage)) sessionStorage.setItem(k, 'a-token-the-server-no-longer-accepts')
    })
    await page.reload()
    await page.getByLabel('Admin token').waitFor()
    expect(await page.getByRole('status').innerText()).toMatch(/Your session ended: Not authorised/)
    expect(await page.evaluate(() => sessionStorage.length)).toBe(0)
    await page.getByLabel('Admin token').fill(herald.adminToken)
    await page.getByRole('button', { name: 'Sign in' }).click()
    await page.getByRole('heading', { name: 'Apps', level: 1 }).waitFor()
  })

  it('signs out and forgets the token', async () => {
    await page.getByRole('button', { name: 'Sign out' }).click()
    await page.getByLabel('Admin token').waitFor()
    expect(await page.evaluate(() => Object.values(sessionStorage))).not.toContain(herald.adminToken)
    await page.reload()
    await page.getByLabel('Admin token').waitFor()
    await screenshot(page, 'signin-1280')
  })

  it('shows an API error in words when an app is gone behind its back', async () => {
    const other = await createApp(herald, {}, 'Short-lived')
    await page.getByLabel('Admin token').fill(herald.adminToken)
    await page.getByRole('button', { name: 'Sign in' }).click()
    await page.getByRole('heading', { name: 'Apps', level: 1 }).waitFor()
    await page.getByRole('link', { name: 'Short-lived' }).click()
    await tab('Settings')
    expect((await admin('DELETE', `/admin/v1/apps/${other.appId}`)).status).toBe(204)
    await page.getByLabel('App name', { exact: true }).fill('Renamed too late')
    await page.getByRole('button', { name: 'Rename' }).click()
    const alert = page.getByRole('alert')
    await alert.waitFor()
    expect(await alert.innerText()).toMatch(/^Could not rename the app\. Not found/)
    await page.getByRole('button', { name: 'Sign out' }).click()
    await page.getByLabel('Admin token').waitFor()
  })

  it('ran without page errors or CSP violations', () => {
    // The wrong-token sign-in and the vanished app log the browser's own 401/404 resource
    // errors; nothing else may.
    const unexpected = problems.filter((p) => !/status of 40[14]/.test(p))
    expect(unexpected).toEqual([])
  })
})
