// The publisher process (forked by run.mjs). Publishes over HTTP with keep-alive, stamping
// each message's data with `n` (a counter) and `t` (send time, performance.timeOrigin + now).
// Modes: `rate` (fixed messages/s spread round-robin over channels), `flood` (as fast as
// it can with N requests in flight) and `cannon` (REST throughput through autocannon).
// Replies over IPC with counts per channel.
import http from 'node:http'
import { performance } from 'node:perf_hooks'
import { Histogram } from './histogram.mjs'

const now = () => performance.timeOrigin + performance.now()

function post(agent, url, headers, body) {
  return new Promise((resolve) => {
    const req = http.request(
      url,
      { method: 'POST', agent, headers: { ...headers, 'content-type': 'application/json', 'content-length': Buffer.byteLength(body) } },
      (res) => {
        res.resume()
        res.on('end', () => resolve(res.statusCode))
        res.on('error', () => resolve(0))
      },
    )
    req.on('error', () => resolve(0))
    req.end(body)
  })
}

function makeSender(cfg) {
  const agent = new http.Agent({ keepAlive: true, maxSockets: cfg.concurrency ?? 64 })
  const pad = 'x'.repeat(Math.max(0, cfg.payloadBytes - 40))
  const published = {}
  const statuses = {}
  // Publish acknowledgement latency: request sent to reply received, 2xx only.
  const acks = new Histogram()
  let n = 0
  let ok = 0
  const send = async (channel) => {
    const t = now()
    const body = JSON.stringify({ channel, data: { n: ++n, t, p: pad } })
    const status = await post(agent, cfg.url, cfg.headers, body)
    statuses[status] = (statuses[status] ?? 0) + 1
    if (status >= 200 && status < 300) {
      ok++
      acks.record(now() - t)
      published[channel] = (published[channel] ?? 0) + 1
    }
  }
  const result = () => ({ published, statuses, ok, sent: n, ackP50: acks.percentile(0.5), ackP99: acks.percentile(0.99), ackMax: acks.max })
  return { send, agent, result }
}

async function rate(cfg) {
  const s = makeSender(cfg)
  const total = Math.round(cfg.rate * cfg.duration)
  const start = now()
  const inflight = new Set()
  let i = 0
  while (i < total) {
    const due = Math.min(total, Math.floor(((now() - start) / 1000) * cfg.rate) + 1)
    for (; i < due; i++) {
      const p = s.send(cfg.channels[i % cfg.channels.length])
      inflight.add(p)
      p.then(() => inflight.delete(p))
    }
    await new Promise((r) => setTimeout(r, Math.max(1, Math.min(10, 1000 / cfg.rate))))
  }
  await Promise.all(inflight)
  const end = now()
  s.agent.destroy()
  return { ...s.result(), start, end }
}

async function flood(cfg) {
  const s = makeSender(cfg)
  const start = now()
  const stopAt = start + cfg.duration * 1000
  let i = 0
  const worker = async () => {
    while (now() < stopAt) await s.send(cfg.channels[i++ % cfg.channels.length])
  }
  await Promise.all(Array.from({ length: cfg.concurrency }, worker))
  const end = now()
  s.agent.destroy()
  return { ...s.result(), start, end }
}

/** REST throughput with autocannon (a much cheaper HTTP client than node:http, so the server is what's measured). */
async function cannon(cfg) {
  const body = JSON.stringify({ channel: cfg.channels[0], data: { n: 0, t: 0, p: 'x'.repeat(Math.max(0, cfg.payloadBytes - 40)) } })
  const { default: autocannon } = await import('autocannon') // heavy: only the REST scenario loads it
  const start = now()
  const codes = {}
  const r = await autocannon({
    url: cfg.url,
    method: 'POST',
    headers: { ...cfg.headers, 'content-type': 'application/json' },
    body,
    connections: cfg.concurrency,
    duration: cfg.duration,
    setupClient: (client) => client.on('response', (status) => (codes[status] = (codes[status] ?? 0) + 1)),
  })
  const end = now()
  const statuses = { '2xx': r['2xx'], non2xx: r.non2xx, errors: r.errors, timeouts: r.timeouts, codes }
  return { published: {}, statuses, ok: r['2xx'], sent: r.requests.sent, start, end, p99: r.latency.p99 }
}

const modes = { rate, flood, cannon }

process.on('message', async (cmd) => {
  const result = await modes[cmd.cmd](cmd.cfg)
  process.send({ type: 'published', ...result })
})
process.on('disconnect', () => process.exit(0))
