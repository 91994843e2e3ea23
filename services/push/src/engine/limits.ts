/**
 * A token bucket: `ratePerSecond` tokens a second, holding at most one second's worth.
 *
 * @example
 * const bucket = new TokenBucket(100); if (!bucket.take(1)) reject(bucket.retryAfterSeconds(1))
 */
export class TokenBucket {
  private tokens: number
  private last = performance.now()

  constructor(private ratePerSecond: number) {
    this.tokens = ratePerSecond
  }

  /** Takes `n` tokens if available; false (and nothing taken) otherwise. */
  take(n = 1, rate = this.ratePerSecond): boolean {
    this.ratePerSecond = rate
    const now = performance.now()
    this.tokens = Math.min(rate, this.tokens + ((now - this.last) / 1000) * rate)
    this.last = now
    if (n > rate) return false
    if (this.tokens < n) return false
    this.tokens -= n
    return true
  }

  /** Whole seconds until `n` tokens are there (at least 1). */
  retryAfterSeconds(n = 1): number {
    return Math.max(1, Math.ceil((n - this.tokens) / this.ratePerSecond))
  }
}

/** One bucket per app, made on first use. */
export class AppRateLimiter {
  private readonly buckets = new Map<string, TokenBucket>()

  take(appId: string, n: number, ratePerSecond: number): { ok: true } | { ok: false; retryAfter: number } {
    let b = this.buckets.get(appId)
    if (!b) this.buckets.set(appId, (b = new TokenBucket(ratePerSecond)))
    return b.take(n, ratePerSecond) ? { ok: true } : { ok: false, retryAfter: b.retryAfterSeconds(Math.min(n, ratePerSecond)) }
  }

  forget(appId: string): void {
    this.buckets.delete(appId)
  }
}
