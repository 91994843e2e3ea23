// Multi-node fan-out: subscribers spread over 3 Herald nodes on Redis + PostgreSQL, publishing
// through one node, against the same fan-out on one embedded node.
import { startHeraldCluster } from '../cluster.mjs'
import { fanoutRun } from '../measure.mjs'
import { startHerald } from '../servers.mjs'
import { deliveryRows } from './fanout.mjs'

export default {
  name: 'cluster',
  title: (o) =>
    `Multi-node fan-out: ${o.subscribers.toLocaleString('en-US')} WebSocket subscribers over ${o.nodes} Herald nodes (Redis broker, PostgreSQL), ${o.rate} msg/s published through one node`,
  heraldLabel: 'Herald, 3 nodes',
  baseLabel: 'Herald, 1 node',
  defaults: { subscribers: 3000, nodes: 3, rate: 20, duration: 10, payload: 100, warmup: 2 },
  quick: { subscribers: 300, nodes: 3, rate: 20, duration: 1, payload: 100, warmup: 0.3 },
  variants: (o) => {
    const measure = (s) =>
      fanoutRun(s, {
        transport: 'ws',
        subscribers: o.subscribers,
        channels: ['bench'],
        mode: 'rate',
        rate: o.rate,
        duration: o.duration,
        payloadBytes: o.payload,
        warmup: o.warmup,
      })
    return [
      { name: 'herald', start: () => startHeraldCluster({ nodes: o.nodes }), measure },
      { name: 'baseline', start: () => startHerald(o), measure },
    ]
  },
  // Server figures are summed over the cluster's node processes; the "baseline" is one embedded node.
  rows: (m) => deliveryRows(m.herald, m.baseline, { loss: true }),
}
