/** Options of {@link Backoff}. */
export interface BackoffOptions {
  /** First ceiling in ms (default 500). */
  base?: number
  /** Largest ceiling in ms (default 20 000). */
  cap?: number
  /** Source of randomness in [0, 1) (default Math.random). */
  random?: () => number
}

/**
 * Full-jitter exponential backoff: the n-th delay is uniform in
 * `[0, min(cap, base * 2^n))`, so many clients that lost the same server spread out.
 *
 * @example
 * const b = new Backoff()
 * setTimeout(reconnect, b.next())   // 0..500 ms, then 0..1 s, 0..2 s … up to 0..20 s
 * b.reset()                         // after a successful connect
 */
export class Backoff {
  private attempt = 0
  private readonly base: number
  private readonly cap: number
  private readonly random: () => number

  constructor(options: BackoffOptions = {}) {
    this.base = options.base ?? 500
    this.cap = options.cap ?? 20_000
    this.random = options.random ?? Math.random
  }

  /** The next delay in ms. */
  next(): number {
    const ceiling = Math.min(this.cap, this.base * 2 ** Math.min(this.attempt, 30))
    this.attempt++
    return Math.floor(this.random() * ceiling)
  }

  /** Starts over from the first ceiling. */
  reset(): void {
    this.attempt = 0
  }
}
