// Many channels: subscribers spread over many channels, publishes spread across them.
import { fanoutRun } from '../measure.mjs'
import { startBaselineWs, startHerald } from '../servers.mjs'
import { deliveryRows, pusherRows } from './fanout.mjs'

export default {
  name: 'channels',
  title: (o) => `Many channels: ${o.subscribers.toLocaleString('en-US')} subscribers over ${o.channels} channels, ${o.rate} msg/s spread across them`,
  defaults: { subscribers: 5000, channels: 500, rate: 500, duration: 10, payload: 100, warmup: 2 },
  quick: { subscribers: 500, channels: 50, rate: 100, duration: 1, payload: 100, warmup: 0.3 },
  variants: (o) => {
    const channels = Array.from({ length: o.channels }, (_, i) => `ch-${i}`)
    const via = (transport) => (s) =>
      fanoutRun(s, {
        transport,
        subscribers: o.subscribers,
        channels,
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
