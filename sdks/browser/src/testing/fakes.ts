// Small fakes of the browser globals a transport uses, for unit tests (injected through
// the client's `env` option). They record what the SDK did and let a test play the server.
import type { TransportEnv } from '../transports/transport.js'

export class FakeSocket {
  onopen: ((ev: unknown) => void) | null = null
  onmessage: ((ev: { data: string }) => void) | null = null
  onclose: ((ev: { code: number; reason: string }) => void) | null = null
  onerror: ((ev: unknown) => void) | null = null
  sent: any[] = []
  closedWith: number | undefined
  constructor(readonly url: string) {}
  send(text: string) {
    this.sent.push(JSON.parse(text))
  }
  close(code = 1000) {
    this.closedWith = code
  }
  /** The server sends a frame. */
  frame(frame: unknown) {
    this.onmessage?.({ data: JSON.stringify(frame) })
  }
  /** The server (or the network) closes the socket. */
  drop(code = 1006, reason = '') {
    this.onclose?.({ code, reason })
  }
  ops(op: string) {
    return this.sent.filter((f) => f.op === op)
  }
}

export class FakeSource {
  listeners: Record<string, Array<(ev: any) => void>> = {}
  closed = false
  constructor(readonly url: string) {}
  addEventListener(type: string, fn: (ev: any) => void) {
    ;(this.listeners[type] ??= []).push(fn)
  }
  close() {
    this.closed = true
  }
  emit(type: string, data?: unknown, id?: string) {
    const ev = data === undefined ? { type } : { type, data: JSON.stringify(data), lastEventId: id ?? '' }
    for (const fn of this.listeners[type] ?? []) fn(ev)
  }
  query(name: string) {
    return new URL(this.url).searchParams.get(name)
  }
}

export interface FakeRequest {
  url: string
  init: RequestInit | undefined
  respond(status: number, body: unknown): void
  fail(err?: Error): void
  aborted: boolean
  query(name: string): string | null
}

/** A fake environment: every socket, event source and fetch the SDK makes is recorded. */
export function fakeEnv() {
  const sockets: FakeSocket[] = []
  const sources: FakeSource[] = []
  const requests: FakeRequest[] = []
  const env: TransportEnv = {
    WebSocket: class extends FakeSocket {
      constructor(url: string) {
        super(url)
        sockets.push(this)
      }
    } as unknown as typeof WebSocket,
    EventSource: class extends FakeSource {
      constructor(url: string) {
        super(url)
        sources.push(this)
      }
    } as unknown as typeof EventSource,
    fetch: ((url: string, init?: RequestInit) =>
      new Promise<Response>((resolve, reject) => {
        const req: FakeRequest = {
          url,
          init,
          aborted: false,
          respond: (status, body) => resolve(new Response(JSON.stringify(body), { status, headers: { 'content-type': 'application/json' } })),
          fail: (err = new TypeError('Failed to fetch')) => reject(err),
          query: (name) => new URL(url).searchParams.get(name),
        }
        init?.signal?.addEventListener('abort', () => {
          req.aborted = true
          reject(new DOMException('aborted', 'AbortError'))
        })
        requests.push(req)
      })) as typeof fetch,
  }
  return { env, sockets, sources, requests, lastSocket: () => sockets[sockets.length - 1]!, lastSource: () => sources[sources.length - 1]! }
}

/** An unsigned JWT with the given claims (the SDK only reads the payload). */
export function fakeJwt(claims: Record<string, unknown>): string {
  const b64 = (o: unknown) => btoa(JSON.stringify(o)).replace(/\+/g, '-').replace(/\//g, '_').replace(/=+$/, '')
  return `${b64({ alg: 'HS256', kid: 'key_1' })}.${b64(claims)}.sig`
}

export function msg(channel: string, epoch: string, seq: number, data: unknown = seq) {
  return { channel, id: `m_${epoch}_${seq}`, seq, epoch, data, ts: 1 }
}
