// Forks and talks to the load-client and publisher processes.
import { fork } from 'node:child_process'
import { fileURLToPath } from 'node:url'
import { Histogram } from './histogram.mjs'

const here = (f) => fileURLToPath(new URL(f, import.meta.url))

/** Sends one command to a forked child and resolves with its next reply of `type`. */
export function ask(child, msg, type) {
  return new Promise((resolve, reject) => {
    const onMsg = (m) => {
      if (m.type !== type) return
      child.off('message', onMsg)
      child.off('exit', onExit)
      resolve(m)
    }
    const onExit = (code) => {
      child.off('message', onMsg)
      reject(new Error(`child exited (${code}) while waiting for ${type}`))
    }
    child.on('message', onMsg)
    child.once('exit', onExit)
    child.send(msg)
  })
}

/**
 * Forks enough load-client processes for `count` subscribers (at most `perProcess` each) and
 * connects them: connection i subscribes to channels[i % channels.length].
 * @example const fleet = await startFleet({ transport: 'ws', count: 5000, channels: ['bench'], ... })
 */
export async function startFleet({ transport, count, channels, server, perProcess = 2500, batch = 250 }) {
  const procs = Math.max(1, Math.ceil(count / perProcess))
  const children = []
  const asks = []
  let offset = 0
  for (let i = 0; i < procs; i++) {
    const n = Math.floor(count / procs) + (i < count % procs ? 1 : 0)
    const child = fork(here('./load-client.mjs'), [], { stdio: ['ignore', 'inherit', 'inherit', 'ipc'] })
    children.push(child)
    // A cluster lists its nodes in `targets`: client processes spread over them round-robin.
    const target = server.targets ? server.targets[i % server.targets.length] : server
    const wsUrl = transport === 'pusher' ? `${target.wsBase}/app/${server.keyId}?protocol=7&client=bench&version=1` : target.wsBase + server.wsPath
    const cfg = { transport, count: n, offset, channels, batch, appId: server.appId, httpBase: target.url, wsUrl }
    asks.push(ask(child, { cmd: 'connect', cfg }, 'connected'))
    offset += n
  }
  const replies = await Promise.all(asks)
  const connected = replies.reduce((a, r) => a + r.ok, 0)
  const failed = replies.reduce((a, r) => a + r.failed, 0)
  return {
    connected,
    failed,
    pids: children.map((c) => c.pid),
    async count() {
      const rs = await Promise.all(children.map((c) => ask(c, { cmd: 'count' }, 'count')))
      return { received: rs.reduce((a, r) => a + r.received, 0), lastRecv: Math.max(...rs.map((r) => r.lastRecv)) }
    },
    async reset() {
      await Promise.all(children.map((c) => ask(c, { cmd: 'reset' }, 'reset')))
    },
    /** Merged figures: received, latency histogram, first-subscriber histogram, closes, errors. */
    async report() {
      const rs = await Promise.all(children.map((c) => ask(c, { cmd: 'report' }, 'report')))
      const hist = new Histogram()
      const firstByN = new Map()
      const closes = {}
      for (const r of rs) {
        hist.merge(r.hist)
        for (const [n, lat] of r.first) if (!(firstByN.get(n) <= lat)) firstByN.set(n, lat)
        for (const [code, c] of Object.entries(r.closes)) closes[code] = (closes[code] ?? 0) + c
      }
      const first = new Histogram()
      for (const lat of firstByN.values()) first.record(lat)
      return {
        received: rs.reduce((a, r) => a + r.received, 0),
        lastRecv: Math.max(...rs.map((r) => r.lastRecv)),
        errors: rs.reduce((a, r) => a + r.errors, 0),
        closes,
        hist,
        first,
      }
    },
    async close() {
      await Promise.all(children.map((c) => (c.exitCode === null ? ask(c, { cmd: 'close' }, 'closed').catch(() => {}) : null)))
      for (const c of children) if (c.exitCode === null) c.kill('SIGKILL')
    },
  }
}

/**
 * Forks one publisher process; `run(mode, cfg)` can be called several times (warm-up, then
 * the measured window). Modes: `rate` ({rate, duration}), `flood` ({concurrency, duration}),
 * `cannon` (autocannon, {concurrency, duration}). Each run resolves with
 * { published: {channel: n}, statuses, ok, sent, start, end }.
 */
export function startPublisher() {
  const child = fork(here('./publisher.mjs'), [], { stdio: ['ignore', 'inherit', 'inherit', 'ipc'] })
  return {
    pid: child.pid,
    run: (mode, cfg) => ask(child, { cmd: mode, cfg }, 'published'),
    close: () => child.kill('SIGTERM'),
  }
}
