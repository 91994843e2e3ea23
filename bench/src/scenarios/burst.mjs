// Burst: subscribers on one channel, publishing as fast as the publisher can (N in flight).
import { fanoutRun } from '../measure.mjs'
import { startBaselineWs, startHerald } from '../servers.mjs'
import { deliveryRows } from './fanout.mjs'

export default {
  name: 'burst',
  title: (o) =>
    `Burst: ${o.subscribers.toLocaleString('en-US')} subscribers on one channel, publishing as fast as possible (HTTP concurrency ${o.concurrency})`,
  defaults: { subscribers: 2000, concurrency: 16, duration: 10, payload: 100, warmup: 1 },
  quick: { subscribers: 300, concurrency: 16, duration: 1, payload: 100, warmup: 0.3 },
  variants: (o) => {
    const measure = (s) =>
      fanoutRun(s, {
        transport: 'ws',
        subscribers: o.subscribers,
        channels: ['bench'],
        mode: 'flood',
        concurrency: o.concurrency,
        duration: o.duration,
        payloadBytes: o.payload,
        warmup: o.warmup,
      })
    return [
      { name: 'herald', start: () => startHerald(o), measure },
      { name: 'baseline', start: startBaselineWs, measure },
    ]
  },
  note: "Publishing is not paced here, so a server that fans out faster than the load clients can read builds a backlog in the socket buffers: when the load clients' CPU is near 100 % of a core, latency measures the receiving side, and first-subscriber latency is the better view of the server.",
  rows: (m) => deliveryRows(m.herald, m.baseline, { cpu: 0.2, dps: 1.0 }),
}
