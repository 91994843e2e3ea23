// Burst: subscribers on one channel, publishing as fast as the publisher can (N in flight).
import { fanoutRun } from '../measure.mjs'
import { startBaselineWs, startHerald } from '../servers.mjs'
import { deliveryRows } from './fanout.mjs'

export default {
  name: 'burst',
  title: (o) => `Burst: ${o.subscribers.toLocaleString('en-US')} subscribers on one channel, publishing as fast as possible (HTTP concurrency ${o.concurrency})`,
  defaults: { subscribers: 2000, concurrency: 16, duration: 10, payload: 100, warmup: 1 },
  quick: { subscribers: 300, concurrency: 16, duration: 1, payload: 100, warmup: 0.3 },
  variants: (o) => {
    const measure = (s) => fanoutRun(s, { transport: 'ws', subscribers: o.subscribers, channels: ['bench'], mode: 'flood', concurrency: o.concurrency, duration: o.duration, payloadBytes: o.payload, warmup: o.warmup })
    return [
      { name: 'herald', start: () => startHerald(o), measure },
      { name: 'baseline', start: startBaselineWs, measure },
    ]
  },
  rows: (m) => deliveryRows(m.herald, m.baseline, { cpu: 1.0, dps: 1.0 }),
}
