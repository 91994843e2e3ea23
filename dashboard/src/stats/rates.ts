import type { AppStats } from '../api/types.js'

/** One chart point: gauges as read, counters turned into per-second rates. */
export interface StatsPoint {
  ts: number
  connections: number
  channels: number
  publishedPerSecond: number
  deliveredPerSecond: number
}

/**
 * Adds a stats sample to a window of points, keeping at most `max` of them.
 * Rates come from the difference to the previous sample; a counter that went down
 * (a restarted node) counts as a fresh start, not a negative rate.
 * @example let w = addSample([], null, s1); w = addSample(w, s1, s2)
 */
export function addSample(points: StatsPoint[], previous: AppStats | null, sample: AppStats, max = 150): StatsPoint[] {
  let published = 0
  let delivered = 0
  if (previous && sample.ts > previous.ts) {
    const seconds = (sample.ts - previous.ts) / 1000
    published = rate(previous.messagesPublished, sample.messagesPublished, seconds)
    delivered = rate(previous.messagesDelivered, sample.messagesDelivered, seconds)
  }
  const point: StatsPoint = {
    ts: sample.ts,
    connections: sample.connections,
    channels: sample.channels,
    publishedPerSecond: published,
    deliveredPerSecond: delivered,
  }
  const next = [...points, point]
  return next.length > max ? next.slice(next.length - max) : next
}

function rate(before: number, after: number, seconds: number): number {
  const diff = after >= before ? after - before : after
  return Math.round((diff / seconds) * 100) / 100
}
