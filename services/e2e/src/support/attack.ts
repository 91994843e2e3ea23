import { spawn, type ChildProcess } from 'node:child_process'
import { createHmac } from 'node:crypto'
import { readFileSync } from 'node:fs'
import { ErrorCodes, HttpStatus } from '@herald/protocol'
import WebSocket from 'ws'
import { expect } from 'vitest'
import { freePort, type HeraldProcess } from './herald.js'
import type { Frame } from './ws-client.js'

/** Helpers for the hardening suites: raw HTTP, contract-error checks, forged JWTs, process probes. */

export interface RawResponse {
  status: number
  headers: Headers
  text: string
  /** The parsed body when it is JSON, else undefined. */
  json: any
}

/** One HTTP request; never throws on a status, only on a network failure. */
export async function http(
  base: string,
  method: string,
  path: string,
  options: { headers?: Record<string, string>; body?: string | Uint8Array; timeoutMs?: number } = {},
): Promise<RawResponse> {
  const res = await fetch(base + path, {
    method,
    headers: options.headers,
    body: options.body as BodyInit | undefined,
    signal: AbortSignal.timeout(options.timeoutMs ?? 15_000),
  })
  const text = await res.text()
  let json: any
  try {
    json = JSON.parse(text)
  } catch {}
  return { status: res.status, headers: res.headers, text, json }
}

const CODES = new Set<string>(ErrorCodes)

/** Whether a body is exactly a contract error: `{"error":{"code","message"}}` with a contract code. */
export function isContractErrorBody(body: unknown): body is { error: { code: string; message: string } } {
  if (typeof body !== 'object' || body === null) return false
  const e = (body as { error?: unknown }).error
  if (typeof e !== 'object' || e === null) return false
  const { code, message } = e as { code?: unknown; message?: unknown }
  return typeof code === 'string' && CODES.has(code) && typeof message === 'string'
}

/**
 * Asserts a response is either a success (2xx) or a contract error whose status matches its
 * code (a draining node's 503 `internal` is the one documented exception). 5xx `internal`
 * is refused unless `allowInternal` (a fuzzer must never reach a crash path).
 */
export function expectContractAnswer(res: RawResponse, what: string, options: { allowInternal?: boolean } = {}): void {
  if (res.status >= 200 && res.status < 300) return
  expect(isContractErrorBody(res.json), `${what}: ${res.status} ${res.text.slice(0, 300)}`).toBe(true)
  const code = res.json.error.code as keyof typeof HttpStatus
  expect(res.status, `${what}: status of ${code}`).toBe(HttpStatus[code])
  if (!options.allowInternal) expect(code, `${what}: ${res.text.slice(0, 300)}`).not.toBe('internal')
  if (res.status === 429) expect(res.headers.get('retry-after'), `${what}: 429 without Retry-After`).toMatch(/^\d+$/)
}

/** Asserts a contract error with this code (and its status). */
export function expectError(res: RawResponse, code: string, what = ''): void {
  expect(res.json?.error?.code, `${what} ${res.status} ${res.text.slice(0, 300)}`).toBe(code)
  expect(res.status, what).toBe(HttpStatus[code as keyof typeof HttpStatus])
}

/**
 * Runs a request again, once, when it failed because the keep-alive socket it reused had
 * been closed by the server (Node closes a socket after answering a request whose body it did
 * not read, e.g. an early 400 for a non-JSON body; the client only learns it on reuse).
 */
export async function retryOnReset<T>(fn: () => Promise<T>): Promise<T> {
  try {
    return await fn()
  } catch (err) {
    if (!/other side closed|ECONNRESET/.test(String((err as Error).cause ?? err))) throw err
    return fn()
  }
}

/** The process is still running and `/healthz` answers 200. */
export async function expectAlive(h: HeraldProcess): Promise<void> {
  expect(h.child.exitCode, 'herald exited:\n' + h.output().slice(-2000)).toBeNull()
  expect(h.child.signalCode).toBeNull()
  const res = await retryOnReset(() => http(h.url, 'GET', '/healthz'))
  expect(res.status).toBe(200)
}

// ---- JWTs built by hand, so that every field (header, payload, signature) can be wrong ----

export const b64url = (v: string | Buffer) => Buffer.from(v).toString('base64url')

/** A compact JWS from raw header and payload objects, HMAC-SHA256-signed with `secret` (UTF-8 or raw bytes). */
export function hsJwt(header: Record<string, unknown>, payload: Record<string, unknown>, secret: string | Buffer): string {
  const input = `${b64url(JSON.stringify(header))}.${b64url(JSON.stringify(payload))}`
  return `${input}.${createHmac('sha256', secret).update(input).digest('base64url')}`
}

/** Seconds since the epoch. */
export const now = () => Math.floor(Date.now() / 1000)

// ---- WebSocket attempts -----------------------------------------------------------------

export interface WsOutcome {
  frames: Frame[]
  code: number
  reason: string
}

/**
 * Opens a WebSocket, collects every frame until the server closes it (or `closeAfterMs`
 * passes, then closes it from our side and reports code 0). `onOpen` can send frames.
 */
export function wsAttempt(url: string, options: { onOpen?: (ws: WebSocket) => void; closeAfterMs?: number; timeoutMs?: number } = {}): Promise<WsOutcome> {
  return new Promise((resolve, reject) => {
    const ws = new WebSocket(url)
    const frames: Frame[] = []
    let done = false
    const finish = (code: number, reason: string) => {
      if (done) return
      done = true
      clearTimeout(timer)
      clearTimeout(soft)
      resolve({ frames, code, reason })
    }
    const timer = setTimeout(() => {
      ws.terminate()
      if (!done) {
        done = true
        reject(new Error(`websocket ${url} not closed in time; frames ${JSON.stringify(frames).slice(0, 500)}`))
      }
    }, options.timeoutMs ?? 15_000)
    const soft =
      options.closeAfterMs === undefined
        ? undefined
        : setTimeout(() => {
            finish(0, 'still open')
            ws.terminate()
          }, options.closeAfterMs)
    ws.on('open', () => options.onOpen?.(ws))
    ws.on('message', (data) => {
      try {
        frames.push(JSON.parse(String(data)))
      } catch {
        frames.push({ op: '<not json>', text: String(data).slice(0, 200) })
      }
    })
    ws.on('error', () => {})
    ws.on('close', (code, reason) => finish(code, String(reason)))
    ws.on('unexpected-response', (_req, res) => finish(-res.statusCode!, 'http ' + res.statusCode))
  })
}

// ---- SSE ------------------------------------------------------------------------------

/**
 * Opens an SSE request and reads the beginning: the status, content type and either the error
 * body or the first `want` bytes of the stream (then aborts).
 */
export async function sseAttempt(
  url: string,
  options: { headers?: Record<string, string>; until?: (text: string) => boolean; timeoutMs?: number } = {},
): Promise<{ status: number; headers: Headers; text: string; json: any }> {
  const ac = new AbortController()
  const timer = setTimeout(() => ac.abort(), options.timeoutMs ?? 10_000)
  try {
    const res = await fetch(url, { headers: options.headers, signal: ac.signal })
    let text = ''
    if (res.headers.get('content-type')?.startsWith('text/event-stream')) {
      const reader = res.body!.getReader()
      const until = options.until ?? ((t: string) => t.includes('\n\n'))
      try {
        while (!until(text)) {
          const { value, done } = await reader.read()
          if (done) break
          text += Buffer.from(value).toString('utf8')
        }
      } catch {}
      ac.abort()
      return { status: res.status, headers: res.headers, text, json: undefined }
    }
    text = await res.text()
    let json: any
    try {
      json = JSON.parse(text)
    } catch {}
    return { status: res.status, headers: res.headers, text, json }
  } finally {
    clearTimeout(timer)
  }
}

// ---- processes ------------------------------------------------------------------------

/** Resident set size of a process in bytes (`VmRSS` of /proc/<pid>/status). */
export function rssBytes(pid: number): number {
  const m = /VmRSS:\s+(\d+)\s+kB/.exec(readFileSync(`/proc/${pid}/status`, 'utf8'))
  if (!m) throw new Error(`no VmRSS for ${pid}`)
  return Number(m[1]) * 1024
}

const children = new Set<ChildProcess>()
process.once('exit', () => {
  for (const c of children) if (c.exitCode === null && c.signalCode === null) c.kill('SIGKILL')
})

export interface RedisProcess {
  url: string
  port: number
  child: ChildProcess
  stop(signal?: NodeJS.Signals): Promise<void>
}

/** A dedicated `redis-server` on 127.0.0.1 and a free port that keeps nothing on disk. */
export async function startRedisServer(port?: number): Promise<RedisProcess> {
  port ??= await freePort()
  const child = spawn('redis-server', ['--port', String(port), '--bind', '127.0.0.1', '--save', '', '--appendonly', 'no', '--daemonize', 'no'], {
    stdio: ['ignore', 'pipe', 'pipe'],
  })
  children.add(child)
  const exited = new Promise<void>((resolve) =>
    child.once('exit', () => {
      children.delete(child)
      resolve()
    }),
  )
  let out = ''
  await new Promise<void>((resolve, reject) => {
    const t = setTimeout(() => reject(new Error('redis-server did not start:\n' + out)), 15_000)
    const onData = (d: Buffer) => {
      out += d
      if (out.includes('Ready to accept connections')) {
        clearTimeout(t)
        resolve()
      }
    }
    child.stdout!.on('data', onData)
    child.stderr!.on('data', onData)
    child.once('exit', (code) => {
      clearTimeout(t)
      reject(new Error(`redis-server exited with ${code}:\n${out}`))
    })
  })
  return {
    url: `redis://127.0.0.1:${port}`,
    port,
    child,
    async stop(signal: NodeJS.Signals = 'SIGTERM') {
      if (child.exitCode === null && child.signalCode === null) child.kill(signal)
      await exited
    },
  }
}

// ---- metrics ----------------------------------------------------------------------------

export interface Sample {
  name: string
  labels: Record<string, string>
  value: number
}

/** Scrapes `/metrics` and parses the Prometheus text format into samples. */
export async function scrape(h: Pick<HeraldProcess, 'url'>): Promise<Sample[]> {
  const res = await http(h.url, 'GET', '/metrics')
  expect(res.status).toBe(200)
  const samples: Sample[] = []
  for (const line of res.text.split('\n')) {
    if (!line || line.startsWith('#')) continue
    const m = /^([a-zA-Z_:][a-zA-Z0-9_:]*)(?:\{(.*)\})?\s+(\S+)/.exec(line)
    if (!m) continue
    const labels: Record<string, string> = {}
    for (const l of (m[2] ?? '').matchAll(/([a-zA-Z_]+)="((?:[^"\\]|\\.)*)"/g)) labels[l[1]!] = l[2]!
    samples.push({ name: m[1]!, labels, value: Number(m[3]) })
  }
  return samples
}

/** Sum of a metric's samples whose labels include `labels`. */
export function metric(samples: Sample[], name: string, labels: Record<string, string> = {}): number {
  return samples.filter((s) => s.name === name && Object.entries(labels).every(([k, v]) => s.labels[k] === v)).reduce((a, s) => a + s.value, 0)
}

/** Reads the history of a channel with Basic auth. */
export async function history(
  h: Pick<HeraldProcess, 'url'>,
  app: { appId: string; basic: string },
  channel: string,
  query = 'limit=1000',
): Promise<{ epoch: string; messages: any[] }> {
  const res = await http(h.url, 'GET', `/v1/apps/${app.appId}/channels/${encodeURIComponent(channel)}/messages?${query}`, {
    headers: { authorization: app.basic },
  })
  expect(res.status, res.text).toBe(200)
  return res.json
}
