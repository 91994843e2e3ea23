import { z } from 'zod'
import { parseEnv } from '../env.js'

/** Webhook delivery tunables (environment variables in docs/webhooks.md). */
export interface WebhookOptions {
  /** Events of one app that happen within this window go in one POST. */
  batchMs: number
  /** At most this many events per POST. */
  maxBatchEvents: number
  /** A request that has not answered within this is a failed attempt. */
  timeoutMs: number
  /** The first retry waits about this long; each next one twice as long (with jitter). */
  backoffMs: number
  /** The longest wait between two attempts. */
  maxBackoffMs: number
  /** An entry is retried for this long after it was enqueued, then dropped (and counted). */
  retryForMs: number
  /** POSTs in flight at once from this node, all receivers together. */
  concurrency: number
  /** How often the outbox is looked at for due retries and entries other nodes left. */
  pollMs: number
}

const Env = z.object({
  HERALD_WEBHOOK_BATCH_MS: z.coerce.number().int().min(0).max(10_000).default(50),
  HERALD_WEBHOOK_TIMEOUT_MS: z.coerce.number().int().min(100).max(120_000).default(10_000),
  HERALD_WEBHOOK_BACKOFF_MS: z.coerce.number().int().min(1).max(600_000).default(1_000),
  HERALD_WEBHOOK_MAX_BACKOFF_MS: z.coerce.number().int().min(1).max(3_600_000).default(60_000),
  HERALD_WEBHOOK_RETRY_FOR_SECONDS: z.coerce.number().int().min(1).max(604_800).default(600),
  HERALD_WEBHOOK_CONCURRENCY: z.coerce.number().int().min(1).max(1_000).default(16),
  HERALD_WEBHOOK_POLL_MS: z.coerce.number().int().min(10).max(60_000).default(1_000),
})

/** Reads the webhook variables; throws naming a bad one. */
export function webhookOptionsFromEnv(env: NodeJS.ProcessEnv): WebhookOptions {
  const e = parseEnv(Env, env)
  return {
    batchMs: e.HERALD_WEBHOOK_BATCH_MS,
    maxBatchEvents: 100,
    timeoutMs: e.HERALD_WEBHOOK_TIMEOUT_MS,
    backoffMs: e.HERALD_WEBHOOK_BACKOFF_MS,
    maxBackoffMs: Math.max(e.HERALD_WEBHOOK_MAX_BACKOFF_MS, e.HERALD_WEBHOOK_BACKOFF_MS),
    retryForMs: e.HERALD_WEBHOOK_RETRY_FOR_SECONDS * 1000,
    concurrency: e.HERALD_WEBHOOK_CONCURRENCY,
    pollMs: e.HERALD_WEBHOOK_POLL_MS,
  }
}

/** The defaults (what `webhookOptionsFromEnv({})` gives). */
export const DEFAULT_WEBHOOK_OPTIONS: WebhookOptions = webhookOptionsFromEnv({})
