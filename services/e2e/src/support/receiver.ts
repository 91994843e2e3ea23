import { createServer, type IncomingHttpHeaders, type Server } from 'node:http'

/** One POST a receiver got. */
export interface ReceivedHook {
  headers: IncomingHttpHeaders
  rawBody: string
  body: { time_ms: number; events: Array<Record<string, unknown> & { name: string }> }
  /** The status the receiver answered. */
  status: number
}

/** A webhook receiver on 127.0.0.1: records every POST and answers what `respond` says (200 by default). */
export interface Receiver {
  url: string
  /** Every POST, in arrival order (the failed ones too). */
  readonly calls: ReceivedHook[]
  /** The POSTs answered with a 2xx. */
  delivered(): ReceivedHook[]
  /** Events of the delivered POSTs, in order. */
  events(): Array<Record<string, unknown> & { name: string }>
  /** Decides the status of the next POST (n = 1 for the first one ever); null holds it unanswered until `release`. */
  respond: (n: number, hook: Omit<ReceivedHook, 'status'>) => number | null
  /** POSTs received and held without an answer. */
  readonly held: number
  /** Answers every held POST with `status`. */
  release(status: number): void
  close(): Promise<void>
}

export async function startReceiver(path = '/hook'): Promise<Receiver> {
  const calls: ReceivedHook[] = []
  const holding: Array<(status: number) => void> = []
  const receiver: Receiver = {
    url: '',
    calls,
    delivered: () => calls.filter((c) => c.status >= 200 && c.status < 300),
    events: () => receiver.delivered().flatMap((c) => c.body.events),
    respond: () => 200,
    get held() {
      return holding.length
    },
    release: (status) => {
      for (const answer of holding.splice(0)) answer(status)
    },
    close: async () => {
      server.closeAllConnections()
      await new Promise<void>((r) => server.close(() => r()))
    },
  }
  const server: Server = createServer((req, res) => {
    let rawBody = ''
    req.setEncoding('utf8')
    req.on('data', (d: string) => (rawBody += d))
    req.on('end', () => {
      let body: ReceivedHook['body']
      try {
        body = JSON.parse(rawBody) as ReceivedHook['body']
      } catch {
        body = { time_ms: 0, events: [] }
      }
      const hook = { headers: req.headers, rawBody, body }
      const answer = (status: number) => {
        calls.push({ ...hook, status })
        res.statusCode = status
        res.end()
      }
      const status = receiver.respond(calls.length + holding.length + 1, hook)
      if (status === null) holding.push(answer)
      else answer(status)
    })
  })
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', () => r()))
  receiver.url = `http://127.0.0.1:${(server.address() as { port: number }).port}${path}`
  return receiver
}
