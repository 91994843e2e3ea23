import { spawn } from 'node:child_process'
import { mkdtempSync, readFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { fileURLToPath } from 'node:url'
import { decodeJwt } from 'jose'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { herald, spawnHerald, type CliProcess, type CliResult } from './support/cli.js'
import { freePort, startHerald, type HeraldProcess } from './support/herald.js'
import { until } from './support/ws-client.js'

/**
 * The `herald` command line, spawned as users run it, against a running Herald: apps and
 * keys over the admin API, tokens, publish in one process and subscribe in another, history,
 * and a one-line reason with a distinct exit code for each kind of bad input.
 */

let h: HeraldProcess
const running: CliProcess[] = []

beforeAll(async () => {
  h = await startHerald()
})
afterAll(async () => {
  for (const p of running) await p.stop()
  await h?.stop()
})

const admin = () => ({ HERALD_URL: h.url, HERALD_ADMIN_TOKEN: h.adminToken })

interface Created {
  app: { id: string; name: string }
  key: { keyId: string; secret: string }
}

async function createApp(name: string): Promise<Created> {
  const r = await herald(['apps', 'create', name, '--json'], admin())
  expect(r.code, r.stderr).toBe(0)
  return JSON.parse(r.stdout) as Created
}

const appEnv = (c: Created) => ({ HERALD_URL: h.url, HERALD_APP_ID: c.app.id, HERALD_KEY_ID: c.key.keyId, HERALD_SECRET: c.key.secret })

function subscriber(args: string[], env: Record<string, string>): CliProcess {
  const p = spawnHerald(['subscribe', ...args], env)
  running.push(p)
  return p
}

/** A failed run: the exit code, nothing on stdout, one line on stderr that says why. */
function expectFailure(r: CliResult, code: number, reason: RegExp): void {
  expect(r.stdout, 'stdout').toBe('')
  const lines = r.stderr.split('\n').filter(Boolean)
  expect(lines, r.stderr).toHaveLength(1)
  expect(lines[0]).toMatch(reason)
  expect(r.code, r.stderr).toBe(code)
}

describe('herald apps and keys', () => {
  it('creates, lists, shows, updates and deletes an app; --json output parses', async () => {
    const created = await createApp('cli-shop')
    expect(created.app.id).toMatch(/^app_/)
    expect(created.key.keyId).toMatch(/^key_/)

    const list = await herald(['apps', 'list', '--json'], admin())
    expect(list.code).toBe(0)
    expect((JSON.parse(list.stdout) as { apps: Array<{ id: string }> }).apps.map((a) => a.id)).toContain(created.app.id)
    const table = await herald(['apps', 'list'], admin())
    expect(table.stdout.split('\n')[0]).toMatch(/^id\s+name\s+connections\s+created$/)
    expect(table.stdout).toMatch(new RegExp(`^${created.app.id}\\s+cli-shop\\s+0\\s`, 'm'))

    const updated = await herald(['apps', 'update', created.app.id, '--name', 'cli-shop-2', '--settings', '{"historySize":7}', '--json'], admin())
    expect(updated.code, updated.stderr).toBe(0)
    expect(JSON.parse(updated.stdout).app).toMatchObject({ name: 'cli-shop-2', settings: { historySize: 7 } })

    const shown = JSON.parse((await herald(['apps', 'show', created.app.id, '--json'], admin())).stdout) as {
      app: { name: string }
      keys: Array<{ keyId: string }>
    }
    expect(shown.app.name).toBe('cli-shop-2')
    expect(shown.keys.map((k) => k.keyId)).toEqual([created.key.keyId])

    const deleted = await herald(['apps', 'delete', created.app.id], admin())
    expect([deleted.code, deleted.stdout.trim()]).toEqual([0, `deleted ${created.app.id}`])
    expectFailure(await herald(['apps', 'show', created.app.id], admin()), 5, /not_found/)
  })

  it('creates a key with a capability and revokes it; apps create --env is eval-able', async () => {
    const env = await herald(['apps', 'create', 'cli-env', '--env'], admin())
    const vars = Object.fromEntries([...env.stdout.matchAll(/^export (HERALD_\w+)='([^']*)'$/gm)].map((m) => [m[1]!, m[2]!]))
    expect(Object.keys(vars).sort()).toEqual(['HERALD_APP_ID', 'HERALD_KEY_ID', 'HERALD_SECRET'])
    const key = await herald(['keys', 'create', '--app', vars.HERALD_APP_ID!, '--label', 'ci', '--cap', 'chat:*=publish', '--json'], admin())
    expect(key.code, key.stderr).toBe(0)
    const k = JSON.parse(key.stdout) as { keyId: string; label: string; capability: unknown }
    expect(k).toMatchObject({ label: 'ci', capability: { 'chat:*': ['publish'] } })
    const revoked = await herald(['keys', 'revoke', k.keyId, '--app', vars.HERALD_APP_ID!], admin())
    expect([revoked.code, revoked.stdout.trim()]).toEqual([0, `revoked ${k.keyId}`])
    const keys = JSON.parse((await herald(['keys', 'list', '--json'], { ...admin(), HERALD_APP_ID: vars.HERALD_APP_ID! })).stdout) as {
      keys: Array<{ keyId: string; revokedAt?: string }>
    }
    expect(keys.keys.find((x) => x.keyId === k.keyId)?.revokedAt).toBeDefined()
  })
})

describe('herald token, publish, subscribe, history', () => {
  let app: Created
  beforeAll(async () => {
    app = await createApp('cli-live')
  })

  it('mints a token, subscribes with it in one process, publishes in another, and the subscriber prints the message', async () => {
    const minted = await herald(['token', '--sub', 'u1', '--cap', 'chat:*=subscribe,publish', '--ttl', '2h'], appEnv(app))
    expect(minted.code, minted.stderr).toBe(0)
    const token = minted.stdout.trim()
    const claims = decodeJwt(token)
    expect(claims).toMatchObject({ sub: 'u1', cap: { 'chat:*': ['subscribe', 'publish'] } })
    expect(claims.exp! - claims.iat!).toBe(7200)

    const sub = subscriber(['chat:room', '--token', token, '--json'], { HERALD_URL: h.url, HERALD_APP_ID: app.app.id })
    await sub.line('stderr', /^subscribed to chat:room at #0$/)
    const pub = await herald(['publish', 'chat:room', '{"text":"hi"}', '--name', 'greeting', '--json'], appEnv(app))
    expect(pub.code, pub.stderr).toBe(0)
    const published = JSON.parse(pub.stdout) as { channel: string; seq: number; id: string }
    expect(published).toMatchObject({ channel: 'chat:room', seq: 1 })
    const line = await sub.line('stdout', /greeting/)
    expect(JSON.parse(line)).toMatchObject({ channel: 'chat:room', seq: 1, id: published.id, name: 'greeting', data: { text: 'hi' } })

    // the human format, with the key looked up through the admin API
    const human = subscriber(['chat:room', '--app', app.app.id], admin())
    await human.line('stderr', /^subscribed to chat:room at #1$/)
    expect((await herald(['publish', 'chat:room', '[1,2]'], appEnv(app))).stdout).toMatch(/^published chat:room #2 \(/)
    expect(await human.line('stdout', /#2/)).toBe('chat:room #2 [1,2]')
    await sub.line('stdout', /"seq":2/)
    expect(await sub.stop()).toBe(0)
    expect(await human.stop()).toBe(0)
  })

  it('--rewind prints the last messages first, --count exits 0 after them; history --json parses', async () => {
    for (const n of [1, 2, 3]) expect((await herald(['publish', 'rewound', String(n)], appEnv(app))).code).toBe(0)
    const sub = subscriber(['rewound', '--rewind', '2', '--count', '2', '--json'], appEnv(app))
    expect(await sub.exited).toBe(0)
    expect(sub.stdoutLines().map((l) => JSON.parse(l).data)).toEqual([2, 3])

    const hist = await herald(['history', 'rewound', '--json'], appEnv(app))
    expect(hist.code, hist.stderr).toBe(0)
    const reply = JSON.parse(hist.stdout) as { epoch: string; messages: Array<{ seq: number; data: unknown }> }
    expect(reply.epoch).toMatch(/^e_/)
    expect(reply.messages.map((m) => [m.seq, m.data])).toEqual([
      [1, 1],
      [2, 2],
      [3, 3],
    ])
    const after = await herald(['history', 'rewound', '--after', '1', '--limit', '1'], appEnv(app))
    expect(after.stdout).toBe('rewound #2 2\n')
  })

  it('keeps printing after the service restarts: it reconnects and resumes by itself', async () => {
    const port = await freePort()
    const dataDir = mkdtempSync(join(tmpdir(), 'herald-e2e-cli-'))
    let own = await startHerald({ port, dataDir })
    try {
      const env = { HERALD_URL: own.url, HERALD_ADMIN_TOKEN: own.adminToken }
      const created = JSON.parse((await herald(['apps', 'create', 'restart', '--json'], env)).stdout) as Created
      const sub = subscriber(['news', '--app', created.app.id, '--json'], env)
      await sub.line('stderr', /^subscribed to news at #0$/)
      expect((await herald(['publish', 'news', '"before"', '--app', created.app.id], env)).code).toBe(0)
      await sub.line('stdout', /"before"/)

      await own.stop()
      await sub.line('stderr', /^connection lost/)
      own = await startHerald({ port, dataDir, adminToken: own.adminToken })
      await sub.line('stderr', /^resumed news at #\d+$/, 40_000)
      expect((await herald(['publish', 'news', '"after"', '--app', created.app.id], env)).code).toBe(0)
      expect(JSON.parse(await sub.line('stdout', /"after"/)).data).toBe('after')
      expect(sub.child.exitCode).toBeNull()
    } finally {
      await own.stop()
    }
  })
})

describe('herald subscribe ends when the service refuses it for good', () => {
  it('exits 4 when its key is revoked while it runs, and 5 when its app is deleted', async () => {
    const app = await createApp('cli-revoked-live')
    const byKey = subscriber(['live'], appEnv(app))
    await byKey.line('stderr', /^subscribed to live at #0$/)
    const gone = await createApp('cli-deleted-live')
    const byApp = subscriber(['live'], { HERALD_URL: h.url, HERALD_APP_ID: gone.app.id })
    await byApp.line('stderr', /^subscribed to live at #0$/)

    expect((await herald(['keys', 'revoke', app.key.keyId, '--app', app.app.id], admin())).code).toBe(0)
    expect(await byKey.exited).toBe(4)
    expect(byKey.stderrLines().at(-1)).toMatch(/^herald: the service refused the credentials: .*\(unauthorized\)$/)

    expect((await herald(['apps', 'delete', gone.app.id], admin())).code).toBe(0)
    expect(await byApp.exited).toBe(5)
    expect(byApp.stderrLines().at(-1)).toBe(`herald: app ${gone.app.id} does not exist or was deleted (not_found)`)
  })

  it('exits 0 when the reader of its output goes away (as in | head -1)', async () => {
    const app = await createApp('cli-pipe')
    const sub = subscriber(['piped', '--json'], appEnv(app))
    await sub.line('stderr', /^subscribed to piped at #0$/)
    expect((await herald(['publish', 'piped', '1'], appEnv(app))).code).toBe(0)
    await sub.line('stdout', /"data":1/)
    sub.child.stdout!.destroy()
    // the next message is written to a closed pipe
    expect((await herald(['publish', 'piped', '2'], appEnv(app))).code).toBe(0)
    expect(await sub.exited).toBe(0)
    expect(sub.stderrLines().filter((l) => l.startsWith('herald:'))).toEqual([])
  })
})

describe('bad input: a non-zero exit and a one-line reason', () => {
  let app: Created
  beforeAll(async () => {
    app = await createApp('cli-errors')
  })

  it('unknown app', async () => {
    expectFailure(await herald(['publish', 'chat', '1', '--app', 'app_doesNotExist'], admin()), 5, /^herald: .*app_doesNotExist.*\(not_found\)$/)
    expectFailure(await herald(['apps', 'delete', 'app_doesNotExist'], admin()), 5, /not_found/)
    expectFailure(
      await herald(['subscribe', 'chat', '--app', 'app_doesNotExist'], { HERALD_URL: h.url }),
      5,
      /^herald: app app_doesNotExist does not exist or was deleted \(not_found\)$/,
    )
    expectFailure(await herald(['history', 'chat'], { ...appEnv(app), HERALD_APP_ID: 'app_doesNotExist' }), 5, /not_found/)
  })

  it('revoked key, and a wrong admin token', async () => {
    const second = JSON.parse((await herald(['keys', 'create', '--app', app.app.id, '--json'], admin())).stdout) as { keyId: string; secret: string }
    expect((await herald(['keys', 'revoke', second.keyId, '--app', app.app.id], admin())).code).toBe(0)
    const env = { HERALD_URL: h.url, HERALD_APP_ID: app.app.id, HERALD_KEY_ID: second.keyId, HERALD_SECRET: second.secret }
    expectFailure(await herald(['publish', 'chat', '1'], env), 4, /^herald: .*\(unauthorized\)$/)
    expectFailure(await herald(['history', 'chat'], env), 4, /unauthorized/)
    // looked up through the admin API, the revoked key is named as such
    expectFailure(
      await herald(['token', '--app', app.app.id, '--key', second.keyId], admin()),
      4,
      new RegExp(`^herald: key ${second.keyId} of app ${app.app.id} was revoked at .* \\(unauthorized\\)$`),
    )
    // a token it signed before is refused too
    const subscriberToken = (await herald(['token', '--cap', 'private-x=subscribe'], env)).stdout.trim()
    expectFailure(await herald(['subscribe', 'private-x', '--token', subscriberToken], { HERALD_URL: h.url, HERALD_APP_ID: app.app.id }), 4, /unauthorized/)
    expectFailure(await herald(['apps', 'list'], { HERALD_URL: h.url, HERALD_ADMIN_TOKEN: 'not-the-admin-token-at-all' }), 4, /^herald: .*\(unauthorized\)$/)
  })

  it('malformed JSON and other usage errors', async () => {
    expectFailure(await herald(['publish', 'chat', '{text: hi}'], appEnv(app)), 2, /^herald: the message data is not valid JSON .*: \{text: hi\}$/)
    expectFailure(await herald(['apps', 'create', 'x', '--settings', '{oops'], admin()), 2, /--settings is not valid JSON/)
    expectFailure(await herald(['token', '--cap', 'chat=read'], appEnv(app)), 2, /unknown operation "read"/)
    expectFailure(await herald(['publish', 'a,b', '1'], appEnv(app)), 2, /invalid channel name "a,b"/)
    expectFailure(await herald(['publish', 'chat'], appEnv(app)), 2, /missing required argument 'json'/)
    expectFailure(await herald(['apps', 'list'], { HERALD_URL: h.url }), 2, /^herald: no admin token: pass --admin-token or set HERALD_ADMIN_TOKEN$/)
    expectFailure(await herald(['publish', 'chat', '1'], { HERALD_URL: h.url }), 2, /^herald: no app: pass --app or set HERALD_APP_ID$/)
    // refused by the service (the key has no publish on this channel): the contract's code
    const narrow = JSON.parse((await herald(['keys', 'create', '--app', app.app.id, '--cap', 'other=publish', '--json'], admin())).stdout) as {
      keyId: string
      secret: string
    }
    expectFailure(await herald(['publish', 'chat', '1'], { ...appEnv(app), HERALD_KEY_ID: narrow.keyId, HERALD_SECRET: narrow.secret }), 6, /\(forbidden\)$/)
  })

  it('unreachable URL', async () => {
    const nowhere = `http://127.0.0.1:${await freePort()}`
    expectFailure(
      await herald(['publish', 'chat', '1'], { ...appEnv(app), HERALD_URL: nowhere }),
      3,
      new RegExp(`^herald: cannot reach ${nowhere}: network error: .*ECONNREFUSED`),
    )
    expectFailure(await herald(['apps', 'list', '--url', nowhere], admin()), 3, /^herald: cannot reach/)
    expectFailure(await herald(['subscribe', 'chat', '--app', app.app.id, '--url', nowhere]), 3, new RegExp(`^herald: cannot reach ${nowhere}`))
  })
})

const REPO = fileURLToPath(new URL('../../../', import.meta.url))

/** The shell block of the README's "Command line" section. */
function readmeCommandLine(): string {
  const readme = readFileSync(`${REPO}README.md`, 'utf8')
  const start = readme.indexOf('\n## Command line\n')
  const section = readme.slice(start, readme.indexOf('\n## ', start + 1))
  const block = /```sh\n([\s\S]*?)```/.exec(section)
  expect(block, 'a sh block in the Command line section').not.toBeNull()
  return block![1]!
}

describe('the README', () => {
  it('runs the Command line section as written, from the repository root', async () => {
    const written = readmeCommandLine()
    // Against this test's service and admin token; and where a person ends the background
    // subscriber with `kill %1` once they saw the message, the script waits for it to print one.
    const script = written
      .replace('http://127.0.0.1:8080', h.url)
      .replace("'the admin token'", `'${h.adminToken}'`)
      .replace('herald subscribe chat --rewind 10 &', 'herald subscribe chat --rewind 10 --count 1 &')
      .replace('kill %1', 'wait')
    expect(script).not.toBe(written)
    expect(script).toContain('--count 1 &')
    expect(script).toMatch(/^wait$/m)
    const run = await new Promise<CliResult>((resolve, reject) => {
      const env = Object.fromEntries(Object.entries(process.env).filter(([k]) => !k.startsWith('HERALD_')))
      const child = spawn('bash', ['-e', '-c', script], { cwd: REPO, env, stdio: ['ignore', 'pipe', 'pipe'] })
      let stdout = ''
      let stderr = ''
      child.stdout.on('data', (d) => (stdout += d))
      child.stderr.on('data', (d) => (stderr += d))
      child.once('error', reject)
      child.once('close', (code) => resolve({ code, stdout, stderr }))
    })
    expect(run.code, run.stderr).toBe(0)
    const lines = run.stdout.split('\n')
    expect(lines).toContain('chat #1 greeting {"text":"hello"}')
    expect(lines.some((l) => /^published chat #1 \(/.test(l))).toBe(true)
    const history = JSON.parse(lines.find((l) => l.startsWith('{"epoch"'))!) as { messages: Array<{ data: unknown }> }
    expect(history.messages.map((m) => m.data)).toEqual([{ text: 'hello' }])
    expect(decodeJwt(lines.find((l) => l.startsWith('eyJ'))!)).toMatchObject({ sub: 'u1', cap: { 'chat:*': ['subscribe', 'publish'] } })
  })
})

describe('herald --help and herald start', () => {
  it('prints help for every command', async () => {
    for (const command of [
      [],
      ['start'],
      ['apps'],
      ['apps', 'list'],
      ['apps', 'create'],
      ['apps', 'show'],
      ['apps', 'update'],
      ['apps', 'delete'],
      ['keys'],
      ['keys', 'list'],
      ['keys', 'create'],
      ['keys', 'revoke'],
      ['token'],
      ['publish'],
      ['subscribe'],
      ['history'],
    ]) {
      const r = await herald([...command, '--help'])
      expect(r.code, command.join(' ')).toBe(0)
      expect(r.stdout, command.join(' ')).toMatch(new RegExp(`^Usage: herald${command.length ? ` ${command.join(' ')}` : ''} `))
      expect(r.stdout, command.join(' ')).toContain('--url <url>')
    }
  })

  it('herald start runs the service (what npm start runs) until SIGTERM', async () => {
    const port = await freePort()
    const dataDir = mkdtempSync(join(tmpdir(), 'herald-e2e-start-'))
    const service = spawnHerald(['start', '--port', String(port), '--data-dir', dataDir], {
      HERALD_ADMIN_TOKEN: 'start-test-admin-token',
      HERALD_LOG_LEVEL: 'warn',
    })
    running.push(service)
    const url = `http://127.0.0.1:${port}`
    await until(async () => (await fetch(`${url}/readyz`).catch(() => null))?.status === 200, 20_000, 'herald start to be ready')
    const list = await herald(['apps', 'list', '--json'], { HERALD_URL: url, HERALD_ADMIN_TOKEN: 'start-test-admin-token' })
    expect(JSON.parse(list.stdout)).toEqual({ apps: [] })
    expect(await service.stop()).toBe(0)
  })
})
