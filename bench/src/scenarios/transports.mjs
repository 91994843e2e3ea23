// SSE and long-poll fan-out against WebSocket fan-out, all three against Herald.
import { fanoutRun } from '../measure.mjs'
import { row } from '../report.mjs'
import { startHerald } from '../servers.mjs'

export default {
  name: 'transports',
  title: (o) => `SSE and long-poll fan-out vs WebSocket (Herald only): ${o.subscribers.toLocaleString('en-US')} subscribers on one channel, ${o.rate} msg/s`,
  defaults: { subscribers: 2000, rate: 20, duration: 10, payload: 100, warmup: 2 },
  quick: { subscribers: 300, rate: 10, duration: 1, payload: 100, warmup: 0.3 },
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
    return ['ws', 'sse', 'poll'].map((t) => ({ name: t, start: () => startHerald(o), measure: via(t) }))
  },
  note: 'Each long-poll delivery batch costs a full HTTP request and response per subscriber, so at this rate the poll run is bound by request handling and messages wait for the next poll (they arrive batched, none is lost).',
  rows: ({ ws, sse, poll }) => [
    row('SSE: server CPU s / 1M deliveries', sse.cpuPer1M, ws.cpuPer1M, { digits: 2, target: { text: '≤ 1.5 × WebSocket', ok: (r) => r <= 1.5 } }),
    row('Long-poll: server CPU s / 1M deliveries', poll.cpuPer1M, ws.cpuPer1M, { digits: 2 }),
    row('SSE: latency p50 (ms)', sse.p50, ws.p50),
    row('SSE: latency p99 (ms)', sse.p99, ws.p99),
    row('Long-poll: latency p50 (ms)', poll.p50, ws.p50),
    row('Long-poll: latency p99 (ms)', poll.p99, ws.p99),
    row('SSE: losses', sse.losses, ws.losses, { digits: 0, target: { text: 'no loss', ok: (_r, v) => v <= 0 } }),
    row('Long-poll: losses', poll.losses, ws.losses, { digits: 0, target: { text: 'no loss', ok: (_r, v) => v <= 0 } }),
    row('SSE: server RSS / connection (KiB)', sse.rssPerConn / 1024, ws.rssPerConn / 1024),
    row('SSE: load clients + publisher CPU (% of a core)', sse.loadCpuPct, ws.loadCpuPct),
    row('Long-poll: server CPU over the window (% of a core)', poll.serverCpuPct, ws.serverCpuPct),
    row('Long-poll: load clients + publisher CPU (% of a core)', poll.loadCpuPct, ws.loadCpuPct),
  ],
  heraldLabel: 'Herald SSE / long-poll',
  baseLabel: 'Herald WebSocket',
}
