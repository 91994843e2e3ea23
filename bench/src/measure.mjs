// One measured fan-out run: connect subscribers, warm up, publish over the steady window,
// wait for the deliveries to drain, and read the server's CPU and RSS from /proc.
import { performance } from 'node:perf_hooks'
import { startFleet, startPublisher } from './fleet.mjs'
import { cpuSeconds, rssBytes } from './proc-stat.mjs'

const now = () => performance.timeOrigin + performance.now()
const sleep = (ms) => new Promise((r) => setTimeout(r, ms))

/** Deliveries expected from per-channel publish counts and per-channel subscriber counts. */
export function expectedDeliveries(published, channels, subscribers) {
  let total = 0
  channels.forEach((ch, i) => {
    const subs = Math.floor(subscribers / channels.length) + (i < subscribers % channels.length ? 1 : 0)
    total += (published[ch] ?? 0) * subs
  })
  return total
}

/** Waits until `expected` deliveries arrived, or nothing new arrived for `quietMs`. */
async function drain(fleet, expected, quietMs = 5000, maxMs = 60_000) {
  const start = Date.now()
  let last = -1
  let lastChange = Date.now()
  for (;;) {
    const c = await fleet.count()
    if (c.received >= expected) return c
    if (c.received !== last) {
      last = c.received
      lastChange = Date.now()
    }
    if (Date.now() - lastChange > quietMs || Date.now() - start > maxMs) return c
    await sleep(200)
  }
}

/**
 * @param server a handle from servers.mjs
 * @param o { transport, subscribers, channels: string[], mode: 'rate'|'flood', rate, concurrency, duration, payloadBytes, warmup,
 *   quietMs (give up waiting for deliveries after this long without progress) }
 * @returns figures for one run
 * @example const f = await fanoutRun(server, { transport: 'ws', subscribers: 5000, channels: ['bench'], mode: 'rate', rate: 20, duration: 10, payloadBytes: 100 })
 */
export async function fanoutRun(server, o) {
  // A cluster (server.pids) is measured as the sum over its node processes.
  const serverPids = server.pids ?? [server.pid]
  const serverCpu = () => serverPids.reduce((a, pid) => a + cpuSeconds(pid), 0)
  const serverRss = () => serverPids.reduce((a, pid) => a + rssBytes(pid), 0)
  const rssBefore = serverRss()
  const perProcess = server.targets ? Math.ceil(o.subscribers / server.targets.length) : undefined
  const fleet = await startFleet({ transport: o.transport, count: o.subscribers, channels: o.channels, server, ...(perProcess ? { perProcess } : {}) })
  const publisher = startPublisher()
  try {
    if (fleet.connected === 0) throw new Error(`no ${o.transport} subscriber could connect and subscribe`)
    await sleep(300)
    const rssAfter = serverRss()
    const pub = {
      url: server.url + server.publishPath,
      headers: server.basic ? { authorization: server.basic } : {},
      channels: o.channels,
      payloadBytes: o.payloadBytes ?? 100,
      rate: o.rate,
      concurrency: o.concurrency ?? 64,
    }
    if (o.warmup > 0) {
      const w = await publisher.run(o.mode, { ...pub, duration: o.warmup })
      await drain(fleet, expectedDeliveries(w.published, o.channels, o.subscribers), o.quietMs ?? 2000)
      await fleet.reset()
    }
    const loadPids = [...fleet.pids, publisher.pid]
    const loadCpu = () => loadPids.reduce((a, pid) => a + cpuSeconds(pid), 0)
    const load0 = loadCpu()
    const cpu0 = serverCpu()
    const t0 = now()
    const p = await publisher.run(o.mode, { ...pub, duration: o.duration })
    const expected = expectedDeliveries(p.published, o.channels, o.subscribers) // failed subscribes count as losses
    await drain(fleet, expected, o.quietMs)
    const cpu1 = serverCpu()
    const load1 = loadCpu()
    const t1 = now()
    const r = await fleet.report()
    server.assertAlive()
    const windowS = ((r.lastRecv || now()) - p.start) / 1000
    return {
      subscribers: fleet.connected,
      connectFailed: fleet.failed,
      published: p.ok,
      publishStatuses: p.statuses,
      publishPerSec: p.ok / ((p.end - p.start) / 1000),
      ackP50: p.ackP50,
      ackP99: p.ackP99,
      expected,
      received: r.received,
      losses: expected - r.received,
      cpuSeconds: cpu1 - cpu0,
      cpuPer1M: r.received ? ((cpu1 - cpu0) / r.received) * 1e6 : NaN,
      serverCpuPct: ((cpu1 - cpu0) / ((t1 - t0) / 1000)) * 100,
      loadCpuPct: ((load1 - load0) / ((t1 - t0) / 1000)) * 100,
      deliveriesPerSec: r.received / windowS,
      p50: r.hist.percentile(0.5),
      p99: r.hist.percentile(0.99),
      max: r.hist.max,
      firstP50: r.first.percentile(0.5),
      firstP99: r.first.percentile(0.99),
      rssPerConn: (rssAfter - rssBefore) / fleet.connected,
      closes: r.closes,
      errors: r.errors,
    }
  } finally {
    publisher.close()
    await fleet.close()
  }
}

/**
 * Idle connections: memory per connection (VmRSS after − before) and idle CPU.
 * @example const f = await idleRun(server, { connections: 10000, settle: 5 })
 */
export async function idleRun(server, o) {
  await sleep(500)
  const rssBefore = rssBytes(server.pid)
  const fleet = await startFleet({ transport: 'ws', count: o.connections, channels: o.channels ?? ['idle'], server })
  try {
    if (fleet.connected === 0) throw new Error('no WebSocket could connect and subscribe')
    const cpu0 = cpuSeconds(server.pid)
    await sleep(o.settle * 1000)
    const cpu1 = cpuSeconds(server.pid)
    const rssAfter = rssBytes(server.pid)
    const r = await fleet.report()
    server.assertAlive()
    return {
      connections: fleet.connected,
      connectFailed: fleet.failed,
      rssBeforeMiB: rssBefore / 2 ** 20,
      rssAfterMiB: rssAfter / 2 ** 20,
      rssPerConn: (rssAfter - rssBefore) / fleet.connected,
      idleCpuPct: ((cpu1 - cpu0) / o.settle) * 100,
      closes: r.closes,
      errors: r.errors,
    }
  } finally {
    await fleet.close()
  }
}

/**
 * REST publish throughput: `concurrency` requests in flight for `duration` s, after a warm-up.
 * @example const f = await restRun(server, { headers: { authorization }, concurrency: 16, duration: 10 })
 */
export async function restRun(server, o) {
  const pub = { url: server.url + server.publishPath, headers: o.headers, channels: ['bench-rest'], payloadBytes: 100, concurrency: o.concurrency }
  const publisher = startPublisher()
  let p, cpu0, cpu1
  try {
    if (o.warmup > 0) await publisher.run('cannon', { ...pub, duration: o.warmup })
    cpu0 = cpuSeconds(server.pid)
    p = await publisher.run('cannon', { ...pub, duration: o.duration })
    cpu1 = cpuSeconds(server.pid)
  } finally {
    publisher.close()
  }
  server.assertAlive()
  const secs = (p.end - p.start) / 1000
  return {
    requests: p.sent,
    ok: p.ok,
    statuses: p.statuses,
    rps: p.ok / secs,
    p99: p.p99,
    cpuPer1M: p.ok ? ((cpu1 - cpu0) / p.ok) * 1e6 : NaN,
    serverCpuPct: ((cpu1 - cpu0) / secs) * 100,
  }
}
