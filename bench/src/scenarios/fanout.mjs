// Fan-out: many WebSocket subscribers on one channel, a steady publish rate.
import { fanoutRun } from '../measure.mjs'
import { row } from '../report.mjs'
import { startBaselineWs, startHerald } from '../servers.mjs'

export default {
  name: 'fanout',
  title: (o) => `Fan-out: ${o.subscribers.toLocaleString('en-US')} WebSocket subscribers on one channel, ${o.rate} msg/s, ${o.payload}-byte payloads`,
  defaults: { subscribers: 5000, rate: 20, duration: 10, payload: 100, warmup: 2 },
  quick: { subscribers: 500, rate: 20, duration: 1, payload: 100, warmup: 0.3 },
  variants: (o) => {
    const via = (transport) => (s) =>
      fanoutRun(s, {
        transport,
        subscribers: o.subscribers,
        channels: ['bench'],
        mode: 'rate',
        rate: o.rate,
        duration: o.duration,
        payloadBytes: o.payload,
        warmup: o.warmup,
      })
    return [
      { name: 'herald', start: () => startHerald(o), measure: via('ws') },
      { name: 'baseline', start: startBaselineWs, measure: via('ws') },
      { name: 'pusher', start: () => startHerald(o), measure: via('pusher') },
    ]
  },
  rows: (m) => [...deliveryRows(m.herald, m.baseline, { cpu: 1.0, p99: 1.5, loss: true }), ...pusherRows(m.pusher, m.herald)],
}

/**
 * The Pusher WebSocket (`/app/:key`, protocol 7) on the same Herald, against Herald's own
 * WebSocket: the value column is the Pusher run, the base column Herald's WebSocket.
 */
export function pusherRows(p, h) {
  return [
    row('Pusher WS vs Herald WS: server CPU s / 1M deliveries', p.cpuPer1M, h.cpuPer1M, {
      digits: 2,
      target: { text: '≤ 1.1 × Herald WebSocket', ok: (r) => r <= 1.1 },
    }),
    row('Pusher WS vs Herald WS: latency p99 (ms)', p.p99, h.p99),
    row('Pusher WS: losses', p.losses, h.losses, { digits: 0, target: { text: 'no loss', ok: (_r, v) => v <= 0 } }),
  ]
}

/** The shared rows of delivery scenarios; `cpu`/`p99`: max ratio, `dps`: min ratio, `loss`: require 0. */
export function deliveryRows(h, b, t = {}) {
  return [
    row('Server CPU s / 1M deliveries', h.cpuPer1M, b.cpuPer1M, { digits: 2, target: t.cpu && { text: `≤ ${t.cpu} × baseline`, ok: (r) => r <= t.cpu } }),
    row('Deliveries / s', h.deliveriesPerSec, b.deliveriesPerSec, { digits: 0, target: t.dps && { text: `≥ ${t.dps} × baseline`, ok: (r) => r >= t.dps } }),
    row('Latency p50 (ms)', h.p50, b.p50),
    row('Latency p99 (ms)', h.p99, b.p99, { target: t.p99 && { text: `≤ ${t.p99} × baseline`, ok: (r) => r <= t.p99 } }),
    row('Latency max (ms)', h.max, b.max),
    row('First-subscriber latency p50 (ms)', h.firstP50, b.firstP50),
    row('First-subscriber latency p99 (ms)', h.firstP99, b.firstP99),
    row('Losses (expected − received)', h.losses, b.losses, { digits: 0, target: t.loss && { text: 'no loss', ok: (_r, hv) => hv <= 0 } }),
    row('Server RSS / connection (KiB)', h.rssPerConn / 1024, b.rssPerConn / 1024),
    row('Server CPU over the window (% of a core)', h.serverCpuPct, b.serverCpuPct),
    row('Load clients + publisher CPU (% of a core)', h.loadCpuPct, b.loadCpuPct),
  ]
}
