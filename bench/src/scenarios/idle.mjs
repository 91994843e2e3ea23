// Idle: many WebSocket connections, each subscribed to one channel; memory per connection.
import { idleRun } from '../measure.mjs'
import { row } from '../report.mjs'
import { startBaselineWs, startHerald } from '../servers.mjs'

export default {
  name: 'idle',
  title: (o) => `Idle: ${o.connections.toLocaleString('en-US')} WebSocket connections (each subscribed to one channel)`,
  defaults: { connections: 10000, settle: 5 },
  quick: { connections: 1000, settle: 1 },
  variants: (o) => {
    const measure = (s) => idleRun(s, { connections: o.connections, settle: o.settle })
    return [
      { name: 'herald', start: () => startHerald(o), measure },
      { name: 'baseline', start: startBaselineWs, measure },
    ]
  },
  rows: ({ herald: h, baseline: b }) => [
    row('Server RSS / connection (KiB)', h.rssPerConn / 1024, b.rssPerConn / 1024, { target: { text: '≤ 1.1 × baseline', ok: (r) => r <= 1.1 } }),
    row('Server RSS before connecting (MiB)', h.rssBeforeMiB, b.rssBeforeMiB),
    row('Server RSS with all connected (MiB)', h.rssAfterMiB, b.rssAfterMiB),
    row('Connections established', h.connections, b.connections, { digits: 0 }),
    row('Idle server CPU (% of a core)', h.idleCpuPct, b.idleCpuPct),
  ],
}
