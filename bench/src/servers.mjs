// Starts the servers under test, each in its own process, on 127.0.0.1 and a free port.
import { spawn } from 'node:child_process'
import { mkdtempSync, rmSync } from 'node:fs'
import { createServer } from 'node:net'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { fileURLToPath } from 'node:url'

/** The Herald build under test; `BENCH_HERALD_MAIN=/path/to/main.js` runs another one (before/after comparisons). */
export const HERALD_MAIN = process.env.BENCH_HERALD_MAIN || fileURLToPath(new URL('../../services/push/dist/main.js', import.meta.url))
const here = (f) => fileURLToPath(new URL(f, import.meta.url))

export function freePort() {
  return new Promise((resolve, reject) => {
    const srv = createServer()
    srv.once('error', reject)
    srv.listen(0, '127.0.0.1', () => {
      const { port } = srv.address()
      srv.close(() => resolve(port))
    })
  })
}

async function launch(args, env, readyPath) {
  const port = await freePort()
  const child = spawn(process.execPath, args, {
    env: { ...process.env, ...env(port) },
    stdio: ['ignore', 'pipe', 'pipe'],
  })
  let out = ''
  const keep = (d) => (out = (out + d).slice(-20_000))
  child.stdout.on('data', keep)
  child.stderr.on('data', keep)
  const exited = new Promise((resolve) => child.once('exit', (code, signal) => resolve({ code, signal })))
  const url = `http://127.0.0.1:${port}`
  const deadline = Date.now() + 30_000
  for (;;) {
    if (child.exitCode !== null) throw new Error(`${args.join(' ')} exited with ${child.exitCode}:\n${out}`)
    try {
      const res = await fetch(url + readyPath)
      if (res.status === 200) break
    } catch {}
    if (Date.now() > deadline) {
      child.kill('SIGKILL')
      throw new Error(`${args.join(' ')} did not become ready:\n${out}`)
    }
    await new Promise((r) => setTimeout(r, 50))
  }
  return {
    pid: child.pid,
    port,
    url,
    wsBase: `ws://127.0.0.1:${port}`,
    output: () => out,
    /** Throws (with the server's last output) if the server process has died. */
    assertAlive() {
      if (child.exitCode !== null || child.signalCode !== null) throw new Error(`server died (${child.exitCode ?? child.signalCode}):\n${out.slice(-2000)}`)
    },
    async stop() {
      if (child.exitCode === null && child.signalCode === null) child.kill('SIGTERM')
      const timer = setTimeout(() => child.kill('SIGKILL'), 10_000)
      const r = await exited
      clearTimeout(timer)
      return r
    },
  }
}

/**
 * Starts Herald (services/push/dist/main.js) with a temp data dir and creates a bench app
 * with high limits. Returns the process handle plus `appId`, `keyId`, `secret`, `basic`.
 * @example const h = await startHerald(); ...; await h.stop()
 */
export async function startHerald({
  cpuProfDir,
  env: extraEnv = {},
  adminToken = 'bench-admin-' + Math.random().toString(36).slice(2),
  createApp = true,
} = {}) {
  const dataDir = mkdtempSync(join(tmpdir(), 'herald-bench-'))
  const args = cpuProfDir ? ['--cpu-prof', `--cpu-prof-dir=${cpuProfDir}`, HERALD_MAIN] : [HERALD_MAIN]
  const env = (port) => ({
    HERALD_HOST: '127.0.0.1',
    HERALD_PORT: String(port),
    HERALD_DATA_DIR: dataDir,
    HERALD_ADMIN_TOKEN: adminToken,
    HERALD_LOG_LEVEL: 'warn',
    ...extraEnv,
  })
  const proc = await launch(args, env, '/readyz')
  if (!createApp) {
    const stop = proc.stop
    return {
      ...proc,
      kind: 'herald',
      async stop() {
        const r = await stop()
        rmSync(dataDir, { recursive: true, force: true })
        return r
      },
    }
  }
  const res = await fetch(`${proc.url}/admin/v1/apps`, {
    method: 'POST',
    headers: { authorization: `Bearer ${adminToken}`, 'content-type': 'application/json' },
    body: JSON.stringify({ name: 'bench', settings: { maxConnections: 100_000, publishRatePerSecond: 1_000_000 } }),
  })
  if (res.status !== 201) {
    await proc.stop()
    throw new Error(`create app: ${res.status} ${await res.text()}`)
  }
  const { app, key } = await res.json()
  const stop = proc.stop
  return {
    ...proc,
    kind: 'herald',
    appId: app.id,
    keyId: key.keyId,
    secret: key.secret,
    basic: 'Basic ' + Buffer.from(`${key.keyId}:${key.secret}`).toString('base64'),
    publishPath: `/v1/apps/${app.id}/messages`,
    wsPath: `/v1/apps/${app.id}/ws`,
    async stop() {
      const r = await stop()
      rmSync(dataDir, { recursive: true, force: true })
      return r
    },
  }
}

/** Starts the naive `ws` fan-out baseline. */
export async function startBaselineWs() {
  const proc = await launch([here('./baseline-ws.mjs')], (port) => ({ PORT: String(port) }), '/healthz')
  return { ...proc, kind: 'baseline-ws', appId: 'app_bench', basic: '', publishPath: '/publish', wsPath: '/v1/apps/app_bench/ws' }
}

/** Starts the bare Hono REST baseline. */
export async function startBaselineHono() {
  const proc = await launch([here('./baseline-hono.mjs')], (port) => ({ PORT: String(port) }), '/healthz')
  return { ...proc, kind: 'baseline-hono', appId: 'app_bench', basic: '', publishPath: '/v1/apps/app_bench/messages' }
}
