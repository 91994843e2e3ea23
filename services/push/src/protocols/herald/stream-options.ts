import { z } from 'zod'
import { parseEnv } from '../../env.js'

/** Tunables of the HTTP streaming transports (SSE and long-poll). */
export interface StreamOptions {
  /** Interval of the shared `: ping` comment written to every SSE stream (ms, at most 20 s). */
  pingMs: number
  /**
   * Longest life of one SSE stream (ms; 0: unlimited). The server then ends the stream and
   * the EventSource reconnects by itself with `Last-Event-ID`, losing nothing: long-lived
   * streams get cut by proxies anyway, this makes it happen on the server's terms.
   */
  maxStreamMs: number
  /** Base of the `retry:` line; each stream gets up to twice this, so reconnects spread out. */
  retryMs: number
  /** How long a woken long-poll waits for more messages before it answers (ms). */
  pollBatchMs: number
}

const Env = z.object({
  HERALD_SSE_PING_SECONDS: z.coerce.number().min(0.1).max(20).default(15),
  HERALD_SSE_MAX_STREAM_SECONDS: z.coerce
    .number()
    .min(0)
    .max(86_400 * 7)
    .default(3600),
  HERALD_SSE_RETRY_MS: z.coerce.number().int().min(100).max(60_000).default(1500),
})

/**
 * Reads the stream tunables from the environment: `HERALD_SSE_PING_SECONDS` (15),
 * `HERALD_SSE_MAX_STREAM_SECONDS` (3600, 0 = unlimited), `HERALD_SSE_RETRY_MS` (1500).
 * Throws naming the bad variable.
 *
 * @example
 * const options = streamOptionsFromEnv({ HERALD_SSE_MAX_STREAM_SECONDS: '2' })
 */
export function streamOptionsFromEnv(env: NodeJS.ProcessEnv = process.env): StreamOptions {
  const e = parseEnv(Env, env)
  return {
    pingMs: Math.round(e.HERALD_SSE_PING_SECONDS * 1000),
    maxStreamMs: Math.round(e.HERALD_SSE_MAX_STREAM_SECONDS * 1000),
    retryMs: e.HERALD_SSE_RETRY_MS,
    pollBatchMs: 5,
  }
}
