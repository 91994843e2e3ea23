import { mkdtempSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { loadConfig } from '../config.js'
import { createNode, type HeraldNode, type NodeDeps } from '../node.js'

/**
 * Test support for the HTTP stream transports: an in-process node on a real socket, an
 * admin/REST client, and a raw SSE reader. Not used by the service itself.
 */
export interface TestNode {
  node: HeraldNode
  url: string
  admin(method: string, path: string, body?: unknown): Promise<{ status: number; body: any }>
  createApp(settings?: Record<string, unknown>): Promise<{ appId: string; keyId: string; secret: string; basic: string }>
  publish(app: { appId: string; basic: string }, body: unknown): Promise<{ status: number; body: any }>
  stop(): Promise<void>
}

const ADMIN = 'stream-test-admin-token-0123456789'

/** Starts a node on 127.0.0.1:0; `env` adds HERALD_* variables (the stream tunables are read from it too); `deps` injects drivers or protocols. */
export async function startTestNode(env: Record<string, string> = {}, deps: NodeDeps = {}): Promise<TestNode> {
  const dir = mkdtempSync(join(tmpdir(), 'herald-streams-'))
  const saved: Record<string, string | undefined> = {}
  for (const [k, v] of Object.entries(env)) {
    saved[k] = process.env[k]
    process.env[k] = v
  }
  let node: HeraldNode
  try {
    node = await createNode(
      loadConfig({ HERALD_HOST: '127.0.0.1', HERALD_PORT: '0', HERALD_DATA_DIR: dir, HERALD_ADMIN_TOKEN: ADMIN, HERALD_LOG_LEVEL: 'silent', ...env }),
      deps,
    )
  } finally {
    for (const [k, v] of Object.entries(saved)) {
      if (v === undefined) delete process.env[k]
      else process.env[k] = v
    }
  }
  const port = await node.start()
  const url = `http://127.0.0.1:${port}`
  const call = async (method: string, path: string, headers: Record<string, string>, body?: unknown) => {
    const res = await fetch(url + path, {
      method,
      headers: { ...headers, ...(body === undefined ? {} : { 'content-type': 'application/json' }) },
      ...(body === undefined ? {} : { body: JSON.stringify(body) }),
    })
    const text = await res.text()
    return { status: res.status, body: text ? JSON.parse(text) : null }
  }
  const admin = (method: string, path: string, body?: unknown) => call(method, path, { authorization: `Bearer ${ADMIN}` }, body)
  return {
    node,
    url,
    admin,
    async createApp(settings = {}) {
      const r = await admin('POST', '/admin/v1/apps', { name: 'streams', settings })
      if (r.status !== 201) throw new Error(`create app: ${r.status} ${JSON.stringify(r.body)}`)
      const { keyId, secret } = r.body.key
      return { appId: r.body.app.id, keyId, secret, basic: 'Basic ' + Buffer.from(`${keyId}:${secret}`).toString('base64') }
    },
    publish: (app, body) => call('POST', `/v1/apps/${app.appId}/messages`, { authorization: app.basic }, body),
    async stop() {
      await node.shutdown()
      rmSync(dir, { recursive: true, force: true })
    },
  }
}

export interface SseEvent {
  event: string
  id: string | undefined
  data: string
}

/**
 * Reads a `text/event-stream` response with the parsing rules of the SSE spec: events,
 * comments and `retry:` lines are collected as they arrive.
 */
export class SseReader {
  readonly events: SseEvent[] = []
  readonly comments: string[] = []
  readonly lines: string[] = []
  retry: number | undefined
  ended = false
  private buffer = ''
  private current: { event?: string; id?: string; data: string[] } = { data: [] }
  private waiters = new Set<() => void>()

  private constructor(
    readonly response: Response,
    private readonly controller: AbortController,
  ) {}

  /** Opens the stream; the promise resolves with the response (check `status` first). */
  static async open(url: string, headers: Record<string, string> = {}): Promise<SseReader> {
    const controller = new AbortController()
    const response = await fetch(url, { headers, signal: controller.signal })
    const reader = new SseReader(response, controller)
    if (response.ok && response.body) void reader.pump(response.body)
    return reader
  }

  private async pump(body: ReadableStream<Uint8Array>): Promise<void> {
    const decoder = new TextDecoder()
    try {
      for await (const chunk of body) this.feed(decoder.decode(chunk, { stream: true }))
    } catch {
      // aborted by close()
    }
    this.ended = true
    this.wake()
  }

  private feed(text: string): void {
    this.buffer += text
    let nl: number
    while ((nl = this.buffer.indexOf('\n')) >= 0) {
      const line = this.buffer.slice(0, nl)
      this.buffer = this.buffer.slice(nl + 1)
      this.lines.push(line)
      this.line(line)
    }
    this.wake()
  }

  private line(line: string): void {
    if (line === '') {
      if (this.current.data.length > 0) this.events.push({ event: this.current.event ?? 'message', id: this.current.id, data: this.current.data.join('\n') })
      this.current = { data: [] }
      return
    }
    if (line.startsWith(':')) {
      this.comments.push(line.slice(1).trim())
      return
    }
    const colon = line.indexOf(':')
    const field = colon < 0 ? line : line.slice(0, colon)
    let value = colon < 0 ? '' : line.slice(colon + 1)
    if (value.startsWith(' ')) value = value.slice(1)
    if (field === 'event') this.current.event = value
    else if (field === 'data') this.current.data.push(value)
    else if (field === 'id') this.current.id = value
    else if (field === 'retry') this.retry = Number(value)
  }

  private wake(): void {
    for (const w of this.waiters) w()
  }

  /** Waits until `check` holds (re-checked on every chunk); rejects after `timeoutMs`. */
  async until<T>(check: () => T | undefined | false, timeoutMs = 10_000, what = 'condition'): Promise<T> {
    const deadline = Date.now() + timeoutMs
    for (;;) {
      const value = check()
      if (value) return value
      if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}; events: ${JSON.stringify(this.events).slice(-2000)}`)
      await new Promise<void>((resolve) => {
        const done = () => {
          this.waiters.delete(done)
          clearTimeout(t)
          resolve()
        }
        const t = setTimeout(done, 100)
        this.waiters.add(done)
      })
    }
  }

  /** The events of one type, data parsed as JSON. */
  of(event: string): Array<{ id: string | undefined; data: any }> {
    return this.events.filter((e) => e.event === event).map((e) => ({ id: e.id, data: JSON.parse(e.data) }))
  }

  close(): void {
    this.controller.abort()
  }
}

/** Waits until `check()` is truthy, polling every 20 ms. */
export async function eventually<T>(check: () => T | Promise<T>, timeoutMs = 10_000, what = 'condition'): Promise<T> {
  const deadline = Date.now() + timeoutMs
  for (;;) {
    const value = await check()
    if (value) return value
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`)
    await new Promise((r) => setTimeout(r, 20))
  }
}

/** Signs a client JWT as the contract says (HS256, `kid`, the secret's UTF-8 bytes). */
export async function signToken(
  app: { keyId: string; secret: string },
  claims: { sub?: string; cap?: Record<string, string[]>; info?: Record<string, unknown>; exp?: number } = {},
): Promise<string> {
  const { SignJWT } = await import('jose')
  const now = Math.floor(Date.now() / 1000)
  const payload: Record<string, unknown> = {}
  if (claims.cap) payload.cap = claims.cap
  if (claims.info) payload.info = claims.info
  let jwt = new SignJWT(payload)
    .setProtectedHeader({ alg: 'HS256', kid: app.keyId })
    .setIssuedAt(now)
    .setExpirationTime(claims.exp ?? now + 3600)
  if (claims.sub) jwt = jwt.setSubject(claims.sub)
  return jwt.sign(new TextEncoder().encode(app.secret))
}
