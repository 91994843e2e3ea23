import { spawn, type ChildProcess } from 'node:child_process'
import { mkdtempSync } from 'node:fs'
import { createServer } from 'node:net'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { fileURLToPath } from 'node:url'

/** The built service entry point (`npm test` builds before it tests). */
export const MAIN = fileURLToPath(new URL('../../../push/dist/main.js', import.meta.url))

export async function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const srv = createServer()
    srv.once('error', reject)
    srv.listen(0, '127.0.0.1', () => {
      const { port } = srv.address() as { port: number }
      srv.close(() => resolve(port))
    })
  })
}

export interface HeraldProcess {
  url: string
  wsUrl: string
  port: number
  adminToken: string
  dataDir: string
  child: ChildProcess
  /** Everything the process wrote to stdout and stderr so far. */
  output(): string
  /** Sends a signal and waits for the exit. */
  stop(signal?: NodeJS.Signals): Promise<{ code: number | null; signal: NodeJS.Signals | null }>
}

export interface StartOptions {
  env?: Record<string, string>
  dataDir?: string
  port?: number
  adminToken?: string
}

/**
 * Starts a real Herald process on 127.0.0.1 and a free port, with its own data directory,
 * and waits until `/readyz` answers 200.
 */
export async function startHerald(options: StartOptions = {}): Promise<HeraldProcess> {
  const port = options.port ?? (await freePort())
  const dataDir = options.dataDir ?? mkdtempSync(join(tmpdir(), 'herald-e2e-'))
  const adminToken = options.adminToken ?? 'test-admin-token-' + Math.random().toString(36).slice(2)
  const child = spawn(process.execPath, [MAIN], {
    env: {
      ...process.env,
      HERALD_HOST: '127.0.0.1',
      HERALD_PORT: String(port),
      HERALD_DATA_DIR: dataDir,
      HERALD_ADMIN_TOKEN: adminToken,
      HERALD_LOG_LEVEL: process.env.HERALD_LOG_LEVEL ?? 'warn',
      ...options.env,
    },
    stdio: ['ignore', 'pipe', 'pipe'],
  })
  let out = ''
  child.stdout!.on('data', (d) => (out += d))
  child.stderr!.on('data', (d) => (out += d))
  const exited = new Promise<{ code: number | null; signal: NodeJS.Signals | null }>((resolve) =>
    child.once('exit', (code, signal) => resolve({ code, signal })),
  )
  const url = `http://127.0.0.1:${port}`
  const deadline = Date.now() + 20_000
  for (;;) {
    if (child.exitCode !== null) throw new Error(`herald exited with ${child.exitCode}:\n${out}`)
    try {
      const res = await fetch(`${url}/readyz`)
      if (res.status === 200) break
    } catch {}
    if (Date.now() > deadline) {
      child.kill('SIGKILL')
      throw new Error(`herald did not become ready:\n${out}`)
    }
    await new Promise((r) => setTimeout(r, 50))
  }
  return {
    url,
    wsUrl: `ws://127.0.0.1:${port}`,
    port,
    adminToken,
    dataDir,
    child,
    output: () => out,
    async stop(signal: NodeJS.Signals = 'SIGTERM') {
      if (child.exitCode === null && child.signalCode === null) child.kill(signal)
      return exited
    },
  }
}

export interface CreatedApp {
  appId: string
  keyId: string
  secret: string
  basic: string
}

/** Creates an app through the admin API and returns its first key. */
export async function createApp(h: Pick<HeraldProcess, 'url' | 'adminToken'>, settings: Record<string, unknown> = {}, name = 'test'): Promise<CreatedApp> {
  const res = await fetch(`${h.url}/admin/v1/apps`, {
    method: 'POST',
    headers: { authorization: `Bearer ${h.adminToken}`, 'content-type': 'application/json' },
    body: JSON.stringify({ name, settings }),
  })
  if (res.status !== 201) throw new Error(`create app: ${res.status} ${await res.text()}`)
  const body = (await res.json()) as { app: { id: string }; key: { keyId: string; secret: string } }
  const { keyId, secret } = body.key
  return { appId: body.app.id, keyId, secret, basic: 'Basic ' + Buffer.from(`${keyId}:${secret}`).toString('base64') }
}

/** Publishes over REST with Basic auth; returns the parsed reply. */
export async function publish(h: Pick<HeraldProcess, 'url'>, app: CreatedApp, body: unknown): Promise<{ status: number; body: any }> {
  const res = await fetch(`${h.url}/v1/apps/${app.appId}/messages`, {
    method: 'POST',
    headers: { authorization: app.basic, 'content-type': 'application/json' },
    body: JSON.stringify(body),
  })
  return { status: res.status, body: await res.json() }
}

/** Signs a client JWT exactly as the contract says (HS256, `kid`, secret as UTF-8 bytes). */
export async function signToken(
  app: Pick<CreatedApp, 'keyId' | 'secret'>,
  claims: { sub?: string; cap?: Record<string, string[]>; info?: Record<string, unknown>; ttlSeconds?: number; exp?: number } = {},
): Promise<string> {
  const { SignJWT } = await import('jose')
  const now = Math.floor(Date.now() / 1000)
  const payload: Record<string, unknown> = {}
  if (claims.cap) payload.cap = claims.cap
  if (claims.info) payload.info = claims.info
  let jwt = new SignJWT(payload).setProtectedHeader({ alg: 'HS256', kid: app.keyId }).setIssuedAt(now)
  jwt = jwt.setExpirationTime(claims.exp ?? now + (claims.ttlSeconds ?? 3600))
  if (claims.sub) jwt = jwt.setSubject(claims.sub)
  return jwt.sign(new TextEncoder().encode(app.secret))
}
