// A mergeable latency histogram: 0.1 ms buckets up to 60 s, plus the exact max.
const RES = 10 // buckets per millisecond
const SIZE = 60_000 * RES

/**
 * @example const h = new Histogram(); h.record(1.27); h.percentile(0.99)
 */
export class Histogram {
  counts = new Uint32Array(SIZE + 1)
  count = 0
  max = 0

  record(ms) {
    const v = Math.max(0, ms)
    this.counts[Math.min(SIZE, Math.round(v * RES))]++
    this.count++
    if (v > this.max) this.max = v
  }

  /** Sparse, structured-clone-friendly form for IPC: `{ b: [[bucket, count], …], count, max }`. */
  toJSON() {
    const b = []
    for (let i = 0; i <= SIZE; i++) if (this.counts[i]) b.push([i, this.counts[i]])
    return { b, count: this.count, max: this.max }
  }

  merge(json) {
    for (const [i, c] of json.b) this.counts[i] += c
    this.count += json.count
    if (json.max > this.max) this.max = json.max
    return this
  }

  /** Latency in ms at quantile q (0..1); NaN when empty. */
  percentile(q) {
    if (this.count === 0) return NaN
    const rank = Math.max(1, Math.ceil(q * this.count))
    let seen = 0
    for (let i = 0; i <= SIZE; i++) {
      seen += this.counts[i]
      if (seen >= rank) return Math.min(i / RES, this.max)
    }
    return this.max
  }
}

/** Median of numbers, ignoring NaN/undefined; NaN when none. */
export function median(values) {
  const v = values.filter((x) => typeof x === 'number' && !Number.isNaN(x)).sort((a, b) => a - b)
  if (v.length === 0) return NaN
  const m = v.length >> 1
  return v.length % 2 ? v[m] : (v[m - 1] + v[m]) / 2
}
