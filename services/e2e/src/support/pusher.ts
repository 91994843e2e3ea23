import { randomBytes } from 'node:crypto'
import { readFileSync } from 'node:fs'
import { createServer, type Server } from 'node:http'
import { fileURLToPath } from 'node:url'
import { createServer as createTcpServer, connect, type Socket } from 'node:net'
import Pusher from 'pusher'
import PusherPackage from 'pusher-js'
import type { CreatedApp } from './herald.js'
import { until } from './ws-client.js'

/** pusher-js's client class: the CommonJS package's `module.exports` (typed as its `default`). */
export type PusherJs = import('pusher-js').default
const PusherJs = PusherPackage as unknown as typeof import('pusher-js').default

/** A 32-byte key for end-to-end encrypted channels, as the `pusher` library takes it. */
export const ENCRYPTION_MASTER_KEY = randomBytes(32).toString('base64')

/** The official `pusher` server library pointed at a Herald node (Pusher app_id = appId, key = keyId). */
export function pusherServer(port: number, app: CreatedApp): Pusher {
  return new Pusher({
    appId: app.appId,
    key: app.keyId,
    secret: app.secret,
    host: '127.0.0.1',
    port: String(port),
    useTLS: false,
    encryptionMasterKeyBase64: ENCRYPTION_MASTER_KEY,
  })
}

export interface AuthServer {
  url: string
  /** Channel auth requests seen, by channel. */
  requests: string[]
  close(): Promise<void>
}

/** pusher-js's browser build with end-to-end encryption, as apps load it with a script tag. */
const PUSHER_JS_WEB = fileURLToPath(new URL('../../../../node_modules/pusher-js/dist/web/pusher-with-encryption.js', import.meta.url))

/**
 * The app backend a pusher-js client calls (and, for browsers, the app's own origin: `/` is an
 * empty page and `/pusher.js` pusher-js's browser build): `POST /pusher/auth` answers with the `pusher`
 * library's `authorizeChannel` (presence: `user_id` from the `user` query parameter of the
 * client's auth params), `POST /pusher/user-auth` with `authenticateUser`. `forge` makes it sign
 * with a wrong secret (the server must refuse the subscription).
 */
export async function startAuthServer(server: Pusher, app: CreatedApp, options: { forge?: (channel: string) => boolean } = {}): Promise<AuthServer> {
  const forged = new Pusher({ appId: app.appId, key: app.keyId, secret: 'not-the-secret', host: '127.0.0.1', useTLS: false })
  const requests: string[] = []
  const http: Server = createServer((req, res) => {
    let body = ''
    req.on('data', (d) => (body += d))
    req.on('end', () => {
      const form = new URLSearchParams(body)
      const socketId = form.get('socket_id') ?? ''
      const url = new URL(req.url ?? '/', 'http://x')
      const user = form.get('user') ?? url.searchParams.get('user') ?? 'anonymous'
      res.setHeader('Access-Control-Allow-Origin', req.headers.origin ?? '*')
      res.setHeader('Access-Control-Allow-Headers', 'Content-Type')
      if (req.method === 'OPTIONS') return res.end()
      if (req.method === 'GET') {
        const script = url.pathname === '/pusher.js'
        res.setHeader('Content-Type', script ? 'application/javascript' : 'text/html')
        return res.end(script ? readFileSync(PUSHER_JS_WEB) : '<!doctype html><title>app</title>')
      }
      res.setHeader('Content-Type', 'application/json')
      if (url.pathname === '/pusher/user-auth') {
        return res.end(JSON.stringify(server.authenticateUser(socketId, { id: user, name: `User ${user}` })))
      }
      const channel = form.get('channel_name') ?? ''
      requests.push(channel)
      const signer = options.forge?.(channel) ? forged : server
      const presence = channel.startsWith('presence-') ? { user_id: user, user_info: { name: `User ${user}` } } : undefined
      try {
        res.end(JSON.stringify(signer.authorizeChannel(socketId, channel, presence)))
      } catch (err) {
        res.statusCode = 500
        res.end(JSON.stringify({ error: String(err) }))
      }
    })
  })
  await new Promise<void>((resolve) => http.listen(0, '127.0.0.1', () => resolve()))
  const { port } = http.address() as { port: number }
  return {
    url: `http://127.0.0.1:${port}`,
    requests,
    close: () => new Promise((resolve) => http.close(() => resolve())),
  }
}

export interface ClientOptions {
  auth?: AuthServer
  /** Sent to the auth endpoint: the presence user id / signed-in user. */
  user?: string
  transports?: Array<'ws' | 'xhr_streaming' | 'xhr_polling'>
}

/** A pusher-js (Node build) client of a Herald node, as its docs say to point it at a self-hosted server. */
export function pusherClient(port: number, app: CreatedApp, options: ClientOptions = {}): PusherJs {
  const params = options.user ? { user: options.user } : {}
  return new PusherJs(app.keyId, {
    cluster: 'any',
    wsHost: '127.0.0.1',
    wsPort: port,
    httpHost: '127.0.0.1',
    httpPort: port,
    forceTLS: false,
    enabledTransports: options.transports ?? ['ws'],
    channelAuthorization: { endpoint: `${options.auth?.url ?? 'http://127.0.0.1:1'}/pusher/auth`, transport: 'ajax', params },
    userAuthentication: { endpoint: `${options.auth?.url ?? 'http://127.0.0.1:1'}/pusher/user-auth`, transport: 'ajax', params },
  })
}

/** Resolves once the client is connected; returns its socket id. */
export async function connected(client: PusherJs): Promise<string> {
  await until(() => client.connection.state === 'connected', 15_000, 'pusher-js connected')
  return client.connection.socket_id
}

/** Resolves with the data of the first `event` on the channel (or the client, without a channel). */
export function nextEvent<T = unknown>(
  target: { bind(event: string, cb: (data: T, meta?: unknown) => void): unknown; unbind(event: string, cb?: (data: T) => void): unknown },
  event: string,
  timeoutMs = 15_000,
): Promise<T> {
  return new Promise((resolve, reject) => {
    const t = setTimeout(() => reject(new Error(`timed out waiting for ${event}`)), timeoutMs)
    const cb = (data: T) => {
      clearTimeout(t)
      target.unbind(event, cb)
      resolve(data)
    }
    target.bind(event, cb)
  })
}

/** A TCP proxy in front of a node that counts the connections clients open through it. */
export async function countingProxy(targetPort: number): Promise<{ port: number; connections: () => number; close(): Promise<void> }> {
  let n = 0
  const sockets = new Set<Socket>()
  const server = createTcpServer((client) => {
    n++
    const upstream = connect(targetPort, '127.0.0.1')
    sockets.add(client).add(upstream)
    client.pipe(upstream).pipe(client)
    const done = () => {
      client.destroy()
      upstream.destroy()
    }
    client.on('error', done).on('close', done)
    upstream.on('error', done).on('close', done)
  })
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', () => resolve()))
  return {
    port: (server.address() as { port: number }).port,
    connections: () => n,
    close: () =>
      new Promise((resolve) => {
        for (const s of sockets) s.destroy()
        server.close(() => resolve())
      }),
  }
}
