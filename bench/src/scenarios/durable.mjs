// Durable history (the embedded default: history, seqs and publisher ids in SQLite) against
// HERALD_HISTORY=memory, in the same run: fan-out, burst and many channels, with the publish
// acknowledgement latency (a publish is acknowledged after its commit).
import { fanoutRun } from '../measure.mjs'
import { row } from '../report.mjs'
import { startHerald } from '../servers.mjs'
import burst from './burst.mjs'
import channels from './channels.mjs'
import fanout from './fanout.mjs'

/** Rows of a durable-vs-memory comparison; CPU per delivery within `cpu` × memory. */
function durableRows(d, m, cpu = 1.1) {
  return [
    row('Server CPU s / 1M deliveries', d.cpuPer1M, m.cpuPer1M, { digits: 2, target: { text: `≤ ${cpu} × memory`, ok: (r) => r <= cpu } }),
    row('Deliveries / s', d.deliveriesPerSec, m.deliveriesPerSec, { digits: 0 }),
    row('Publishes / s', d.publishPerSec, m.publishPerSec, { digits: 0 }),
    row('Publish acknowledgement p50 (ms)', d.ackP50, m.ackP50),
    row('Publish acknowledgement p99 (ms)', d.ackP99, m.ackP99),
    row('Latency p50 (ms)', d.p50, m.p50),
    row('Latency p99 (ms)', d.p99, m.p99),
    row('First-subscriber latency p99 (ms)', d.firstP99, m.firstP99),
    row('Losses (expected − received)', d.losses, m.losses, { digits: 0, target: { text: 'no loss', ok: (_r, dv) => dv <= 0 } }),
    row('Server CPU over the window (% of a core)', d.serverCpuPct, m.serverCpuPct),
  ]
}

/** A durable-vs-memory variant of a delivery scenario (same defaults, quick settings and channels). */
function durableOf(base, channelsOf, extra) {
  return {
    name: `durable-${base.name}`,
    title: (o) => `Durable history vs HERALD_HISTORY=memory — ${base.title(o)}`,
    defaults: base.defaults,
    quick: base.quick,
    variants: (o) => {
      const measure = (s) =>
        fanoutRun(s, {
          transport: 'ws',
          subscribers: o.subscribers,
          channels: channelsOf(o),
          payloadBytes: o.payload,
          duration: o.duration,
          warmup: o.warmup,
          ...extra(o),
        })
      return [
        { name: 'durable', start: () => startHerald(o), measure },
        { name: 'memory', start: () => startHerald({ ...o, env: { HERALD_HISTORY: 'memory' } }), measure },
      ]
    },
    rows: (m) => durableRows(m.durable, m.memory),
    heraldLabel: 'Durable (SQLite)',
    baseLabel: 'Memory',
  }
}

const channelList = (o) => Array.from({ length: o.channels }, (_, i) => `ch-${i}`)

export const durableFanout = durableOf(
  fanout,
  () => ['bench'],
  (o) => ({ mode: 'rate', rate: o.rate }),
)
export const durableBurst = durableOf(
  burst,
  () => ['bench'],
  (o) => ({ mode: 'flood', concurrency: o.concurrency }),
)
export const durableChannels = durableOf(channels, channelList, (o) => ({ mode: 'rate', rate: o.rate }))
