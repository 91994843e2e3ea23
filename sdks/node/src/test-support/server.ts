import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http'
import type { AddressInfo, Socket } from 'node:net'

export interface Recorded {
  method: string
  url: string
  headers: IncomingMessage['headers']
  body: string
  /** Which TCP connection carried it (1-based, in order of arrival). */
  connection: number
}

export type Handler = (req: Recorded, res: ServerResponse) => void

/**
 * A real HTTP server on 127.0.0.1 for SDK unit tests: answers each request with the next
 * handler of a script (the last one repeats) and records what it received.
 */
export interface ScriptServer {
  url: string
  requests: Recorded[]
  connections(): number
  close(): Promise<void>
}

export async function startScriptServer(script: Handler[]): Promise<ScriptServer> {
  const requests: Recorded[] = []
  const sockets = new Set<Socket>()
  const ids = new WeakMap<Socket, number>()
  let connections = 0
  const server: Server = createServer((req, res) => {
    const chunks: Buffer[] = []
    req.on('data', (c: Buffer) => chunks.push(c))
    req.on('end', () => {
      const recorded: Recorded = {
        method: req.method ?? '',
        url: req.url ?? '',
        headers: req.headers,
        body: Buffer.concat(chunks).toString('utf8'),
        connection: ids.get(req.socket) ?? 0,
      }
      requests.push(recorded)
      const handler = script[Math.min(requests.length - 1, script.length - 1)]!
      handler(recorded, res)
    })
  })
  server.on('connection', (socket) => {
    ids.set(socket, ++connections)
    sockets.add(socket)
    socket.on('close', () => sockets.delete(socket))
  })
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve))
  const { port } = server.address() as AddressInfo
  return {
    url: `http://127.0.0.1:${port}`,
    requests,
    connections: () => connections,
    close: () =>
      new Promise<void>((resolve) => {
        for (const s of sockets) s.destroy()
        server.close(() => resolve())
      }),
  }
}

/** Replies with JSON. */
export const json =
  (status: number, body: unknown, headers: Record<string, string> = {}): Handler =>
  (_req, res) => {
    res.writeHead(status, { 'content-type': 'application/json', ...headers })
    res.end(JSON.stringify(body))
  }

/** Destroys the connection without any answer (a network failure to the client). */
export const drop: Handler = (_req, res) => res.socket?.destroy()

/** Never answers (until the server closes). */
export const hang: Handler = () => {}

/** A publish reply echoing the channels and ids of the request body. */
export const publishReply: Handler = (req, res) => {
  const body = JSON.parse(req.body) as { channel?: string; channels?: string[]; id?: string; messages?: Array<{ channel: string; id: string }> }
  const list = body.messages ?? (body.channels ?? [body.channel!]).map((channel) => ({ channel, id: body.id! }))
  json(200, { messages: list.map((m, i) => ({ channel: m.channel, id: m.id, seq: i + 1, epoch: 'e_test' })) })(req, res)
}
