import { HeraldError } from './errors.js'

/** When and how long to wait before another attempt. */
export interface RetryPolicy {
  /** Extra attempts after the first one. */
  retries: number
  /** Cap of the first backoff window; doubles each attempt. */
  baseDelayMs: number
  /** Largest backoff window. */
  maxDelayMs: number
  /** A `Retry-After` longer than this is not waited for: the error is thrown at once. */
  maxRetryAfterMs: number
}

export const DEFAULT_RETRY_POLICY: RetryPolicy = { retries: 3, baseDelayMs: 250, maxDelayMs: 5_000, maxRetryAfterMs: 60_000 }

/**
 * Full-jitter backoff: a random delay in `[0, min(max, base * 2^attempt))`.
 *
 * @example
 * fullJitter(0, 250, 5000) // somewhere in [0, 250)
 */
export function fullJitter(attempt: number, baseMs: number, maxMs: number, random: () => number = Math.random): number {
  const window = Math.min(maxMs, baseMs * 2 ** attempt)
  return Math.floor(random() * window)
}

/**
 * Whether an error is worth another attempt: transport failures, 5xx, and 429 `rate_limited`
 * (or any 429 carrying `Retry-After`). Other 4xx are the caller's to fix.
 */
export function isRetryable(error: HeraldError): boolean {
  return error.retryable
}

/**
 * The delay before attempt `attempt + 1` (0-based `attempt` that just failed), or null to give up.
 * A 429 with `Retry-After` waits that long (plus up to 10% jitter); everything else uses full jitter.
 */
export function retryDelay(error: HeraldError, attempt: number, policy: RetryPolicy, random: () => number = Math.random): number | null {
  if (attempt >= policy.retries || !isRetryable(error)) return null
  if (error.retryAfter !== undefined) {
    const ms = error.retryAfter * 1000
    if (ms > policy.maxRetryAfterMs) return null
    return Math.ceil(ms + random() * ms * 0.1)
  }
  return fullJitter(attempt, policy.baseDelayMs, policy.maxDelayMs, random)
}

const sleep = (ms: number) => new Promise<void>((resolve) => setTimeout(resolve, ms))

/**
 * Runs `attempt` until it succeeds, the error is not retryable, or the policy's retries are spent.
 * Non-{@link HeraldError} throws are not retried.
 *
 * @example
 * await withRetries((n) => fetchSomething(n), DEFAULT_RETRY_POLICY)
 */
export async function withRetries<T>(attempt: (n: number) => Promise<T>, policy: RetryPolicy): Promise<T> {
  for (let n = 0; ; n++) {
    try {
      return await attempt(n)
    } catch (error) {
      if (!(error instanceof HeraldError)) throw error
      const delay = retryDelay(error, n, policy)
      if (delay === null) throw error
      await sleep(delay)
    }
  }
}
