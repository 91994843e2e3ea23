import { spawnSync } from 'node:child_process'
import { randomBytes } from 'node:crypto'
import { existsSync, readFileSync, statSync } from 'node:fs'
import { join } from 'node:path'
import { fileURLToPath } from 'node:url'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { hsJwt, http, now, sseAttempt, wsAttempt } from './support/attack.js'
import { createApp, publish, signToken, startHerald, type CreatedApp, type HeraldProcess } from './support/herald.js'
import { WsClient } from './support/ws-client.js'

/**
 * Secrets at rest and in logs: app key secrets are sealed in the database, the master key
 * file is 0600, and a process logging at `trace` never writes a secret, the admin token or
 * a JWT, whatever it is asked to do.
 */

let h: HeraldProcess
let app: CreatedApp
let second: { keyId: string; secret: string }
const leaks: Array<[string, string]> = []

beforeAll(async () => {
  h = await startHerald({ env: { HERALD_LOG_LEVEL: 'trace' } })
  app = await createApp(h, {}, 'secrets')
  const created = await http(h.url, 'POST', `/admin/v1/apps/${app.appId}/keys`, {
    headers: { authorization: `Bearer ${h.adminToken}`, 'content-type': 'application/json' },
    body: JSON.stringify({ label: 'second' }),
  })
  expect(created.status).toBe(201)
  second = created.json.key
})
afterAll(async () => {
  await h?.stop()
})

describe('secrets at rest', () => {
  it('keeps app key secrets out of the SQLite files in plain text', async () => {
    // make sure what the store wrote is on disk: a restart checkpoints nothing away, so read db and wal both
    const files = ['herald.db', 'herald.db-wal'].map((f) => join(h.dataDir, f)).filter(existsSync)
    const bytes = Buffer.concat(files.map((f) => readFileSync(f)))
    // the right file: public ids are there
    expect(bytes.includes(Buffer.from(app.keyId))).toBe(true)
    expect(bytes.includes(Buffer.from(second.keyId))).toBe(true)
    for (const secret of [app.secret, second.secret]) {
      for (const form of [
        Buffer.from(secret),
        Buffer.from(secret, 'base64url'),
        Buffer.from(Buffer.from(secret).toString('base64')),
        Buffer.from(Buffer.from(secret).toString('hex')),
      ]) {
        expect(bytes.includes(form), 'a secret is stored in the clear').toBe(false)
      }
    }
    // the admin token is stored as a hash only
    expect(bytes.includes(Buffer.from(h.adminToken))).toBe(false)
  })

  it('writes the generated master key file with mode 0600', () => {
    const file = join(h.dataDir, 'master.key')
    expect((statSync(file).mode & 0o777).toString(8)).toBe('600')
    expect(readFileSync(file, 'utf8').trim()).toMatch(/^[0-9a-f]{64}$/)
  })
})

describe('secrets in logs', () => {
  it('never logs a key secret, the admin token, Basic credentials or a JWT, at trace level', async () => {
    const track = (what: string, value: string) => leaks.push([what, value])
    track('key secret', app.secret)
    track('second key secret', second.secret)
    track('admin token', h.adminToken)
    track('basic credentials', app.basic.slice('Basic '.length))
    track('master key', readFileSync(join(h.dataDir, 'master.key'), 'utf8').trim())

    // admin sign-in: right, wrong, and a near miss of the real token
    const nearMiss = h.adminToken.slice(0, -1) + 'X'
    track('near-miss admin token', nearMiss)
    for (const token of [h.adminToken, 'wrong-admin-token-123456', nearMiss]) {
      await http(h.url, 'GET', '/admin/v1/apps', { headers: { authorization: `Bearer ${token}` } })
    }
    // key creation and revocation, with the admin token in the header
    const k = await http(h.url, 'POST', `/admin/v1/apps/${app.appId}/keys`, {
      headers: { authorization: `Bearer ${h.adminToken}`, 'content-type': 'application/json' },
      body: JSON.stringify({ label: 'third' }),
    })
    track('third key secret', k.json.key.secret)
    await http(h.url, 'DELETE', `/admin/v1/apps/${app.appId}/keys/${k.json.key.keyId}`, { headers: { authorization: `Bearer ${h.adminToken}` } })

    // good and bad tokens on every transport
    const good = await signToken(app, { sub: 'alice', cap: { '*': ['subscribe', 'publish', 'presence', 'history'] } })
    const forged = hsJwt({ alg: 'HS256', kid: app.keyId }, { sub: 'mallory', exp: now() + 60 }, 'not-the-secret')
    const expired = hsJwt({ alg: 'HS256', kid: app.keyId }, { sub: 'old', exp: now() - 600 }, app.secret)
    const revokedKey = hsJwt({ alg: 'HS256', kid: k.json.key.keyId }, { sub: 'r', exp: now() + 60 }, k.json.key.secret)
    for (const [name, token] of [
      ['good jwt', good],
      ['forged jwt', forged],
      ['expired jwt', expired],
      ['revoked-key jwt', revokedKey],
    ] as const) {
      track(name, token)
      track(name + ' signature', token.split('.')[2]!)
      await wsAttempt(`${h.wsUrl}/v1/apps/${app.appId}/ws?token=${token}`, { closeAfterMs: 300 })
      await sseAttempt(`${h.url}/v1/apps/${app.appId}/sse?channels=a&token=${token}`, { timeoutMs: 2000 })
      await http(h.url, 'GET', `/v1/apps/${app.appId}/poll?channels=a&wait=0&token=${token}`)
      await http(h.url, 'POST', `/v1/apps/${app.appId}/messages`, {
        headers: { authorization: `Bearer ${token}`, 'content-type': 'application/json' },
        body: JSON.stringify({ channel: 'a', data: 1 }),
      })
    }
    // a refresh over an open connection, with a bad and a good token
    const c = await WsClient.connect(`${h.wsUrl}/v1/apps/${app.appId}/ws?token=${good}`)
    await c.request({ op: 'auth', token: forged })
    const fresh = await signToken(app, { sub: 'alice', ttlSeconds: 600 })
    track('refreshed jwt', fresh)
    await c.request({ op: 'auth', token: fresh })
    c.close()
    // Basic with a wrong secret
    const wrongBasic = Buffer.from(`${app.keyId}:${app.secret.slice(0, -2)}zz`).toString('base64')
    track('wrong basic', wrongBasic)
    await http(h.url, 'GET', `/v1/apps/${app.appId}/channels`, { headers: { authorization: `Basic ${wrongBasic}` } })
    expect((await publish(h, app, { channel: 'a', data: 'logged?' })).status).toBe(200)

    expect(await h.stop('SIGTERM')).toEqual({ code: 0, signal: null })
    const out = h.output()
    // the log is real and verbose: it saw the requests
    expect(out.length).toBeGreaterThan(500)
    expect(out).toMatch(/"level":(10|20|30)/)
    for (const [what, value] of leaks) {
      expect(out.includes(value), `${what} appears in the log output`).toBe(false)
    }
  })
})

describe('master key rotation (services/push/dist/cli/rotate-master-key.js)', () => {
  const CLI = fileURLToPath(new URL('../../push/dist/cli/rotate-master-key.js', import.meta.url))
  const run = (env: Record<string, string>) => spawnSync(process.execPath, [CLI], { env: { ...process.env, ...env }, encoding: 'utf8' })
  let node: HeraldProcess | undefined
  afterAll(async () => {
    await node?.stop()
  })

  it('re-seals every secret under a new key file; old secrets keep working, the old key no longer opens the store', async () => {
    node = await startHerald()
    const a = await createApp(node, {}, 'rotate')
    const extra = await http(node.url, 'POST', `/admin/v1/apps/${a.appId}/keys`, {
      headers: { authorization: `Bearer ${node.adminToken}`, 'content-type': 'application/json' },
      body: '{}',
    })
    const revoked = await http(node.url, 'POST', `/admin/v1/apps/${a.appId}/keys`, {
      headers: { authorization: `Bearer ${node.adminToken}`, 'content-type': 'application/json' },
      body: '{}',
    })
    await http(node.url, 'DELETE', `/admin/v1/apps/${a.appId}/keys/${revoked.json.key.keyId}`, { headers: { authorization: `Bearer ${node.adminToken}` } })
    const dataDir = node.dataDir
    const oldKey = readFileSync(join(dataDir, 'master.key'), 'utf8').trim()
    expect(await node.stop()).toEqual({ code: 0, signal: null })

    const out = run({ HERALD_DATA_DIR: dataDir })
    expect(out.status, out.stderr).toBe(0)
    expect(out.stderr).toMatch(/re-sealed 3 key secret/)
    const newKey = readFileSync(join(dataDir, 'master.key'), 'utf8').trim()
    expect(newKey).toMatch(/^[0-9a-f]{64}$/)
    expect(newKey).not.toBe(oldKey)
    expect((statSync(join(dataDir, 'master.key')).mode & 0o777).toString(8)).toBe('600')
    expect(existsSync(join(dataDir, 'master.key.new'))).toBe(false)
    expect(out.stdout + out.stderr).not.toContain(newKey)

    // the old key is refused at start
    await expect(startHerald({ dataDir, adminToken: 'rotation-admin-token-1234', env: { HERALD_MASTER_KEY: oldKey } })).rejects.toThrow(
      /HERALD_MASTER_KEY|master key|exited/,
    )
    // the new one (from the file) opens everything: old secrets still authenticate
    node = await startHerald({ dataDir })
    expect((await publish(node, a, { channel: 'c', data: 1 })).status).toBe(200)
    const viaExtra = { ...a, basic: 'Basic ' + Buffer.from(`${extra.json.key.keyId}:${extra.json.key.secret}`).toString('base64') }
    expect((await publish(node, viaExtra, { channel: 'c', data: 2 })).status).toBe(200)
    const read = await http(node.url, 'GET', `/admin/v1/apps/${a.appId}`, { headers: { authorization: `Bearer ${node.adminToken}` } })
    expect(read.json.keys.find((k: any) => k.keyId === a.keyId).secret).toBe(a.secret)
    expect(read.json.keys.find((k: any) => k.keyId === revoked.json.key.keyId).revokedAt).toEqual(expect.any(String))
    await node.stop()
  })

  it('with HERALD_MASTER_KEY: prints the new key once and changes nothing when the current key is wrong', async () => {
    const current = randomBytes(32).toString('hex')
    node = await startHerald({ env: { HERALD_MASTER_KEY: current } })
    const a = await createApp(node, {}, 'env key')
    const dataDir = node.dataDir
    await node.stop()
    const before = readFileSync(join(dataDir, 'herald.db'))

    const wrong = run({ HERALD_DATA_DIR: dataDir, HERALD_MASTER_KEY: randomBytes(32).toString('hex') })
    expect(wrong.status).toBe(1)
    expect(wrong.stderr).toMatch(/does not open the secret of key_.*nothing was changed/)
    expect(readFileSync(join(dataDir, 'herald.db')).equals(before)).toBe(true)

    const next = randomBytes(32).toString('hex')
    const ok = run({ HERALD_DATA_DIR: dataDir, HERALD_MASTER_KEY: current, HERALD_NEW_MASTER_KEY: next })
    expect(ok.status, ok.stderr).toBe(0)
    expect(ok.stdout).toContain(next)
    expect(existsSync(join(dataDir, 'master.key'))).toBe(false)
    node = await startHerald({ dataDir, env: { HERALD_MASTER_KEY: next } })
    expect((await publish(node, a, { channel: 'c', data: 1 })).status).toBe(200)
  })
})
