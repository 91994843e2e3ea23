import { retryDelay } from './backoff.js'
import type { Clock } from './clock.js'
import type { WebhookOptions } from './options.js'
import type { DeliveryAttempt, Outbox, OutboxEntry } from './outbox.js'
import type { PostFn, PostResult } from './post.js'
import { webhookHeaders } from './signature.js'

/** The key webhooks of an app are signed with (its oldest live key), or null when it has none. */
export type SigningKeyLookup = (appId: string) => Promise<{ keyId: string; secret: string } | null>

/** What the sender reports, for metrics. */
export interface SenderEvents {
  delivered(appId: string, latencyMs: number): void
  retried(appId: string): void
  dropped(appId: string): void
  error(err: unknown): void
}

export interface SenderDeps {
  outbox: Outbox
  /** This node's id: it owns the leases it takes. */
  owner: string
  /** At start, release every lease, not only this owner's (the embedded default: one process per outbox). */
  soleOwner?: boolean
  signingKey: SigningKeyLookup
  post: PostFn
  options: WebhookOptions
  clock: Clock
  random?: () => number
  events?: Partial<SenderEvents>
}

/**
 * Sends what waits in the outbox. Each (app, URL) is its own FIFO queue (the outbox only
 * hands out a queue's oldest entry), at most `concurrency` POSTs are in flight, and a POST
 * that hangs is cut at `timeoutMs`: one slow or dead receiver holds one slot, never another
 * app's queue. Failed attempts (non-2xx, timeout, network error) are retried with
 * exponential backoff until `retryForMs` after the entry was enqueued, then dropped.
 *
 * Any node may send any entry: entries a dead node leased become claimable when the lease
 * (`timeoutMs` + a margin) expires, and `start` releases this owner's own leases (a restart).
 */
export class WebhookSender {
  private inflight = 0
  private pumping = false
  private again = false
  private stopped = true
  private timer: unknown = null
  private idle: Array<() => void> = []
  private readonly random: () => number
  private readonly leaseMs: number

  constructor(private readonly deps: SenderDeps) {
    this.random = deps.random ?? Math.random
    this.leaseMs = deps.options.timeoutMs + 5_000
  }

  async start(): Promise<void> {
    this.stopped = false
    await this.deps.outbox.releaseAll(this.deps.soleOwner ? null : this.deps.owner).catch((err: unknown) => this.deps.events?.error?.(err))
    this.wake()
  }

  /** Something was enqueued (or is due): look at the outbox now. */
  wake(): void {
    if (this.stopped) return
    if (this.pumping) {
      this.again = true
      return
    }
    void this.pump()
  }

  /**
   * Stops claiming and waits for the POSTs in flight, at most `waitMs` (default `timeoutMs`);
   * what is left stays in the outbox (a POST cut off is sent again: at least once).
   */
  async stop(waitMs = this.deps.options.timeoutMs): Promise<void> {
    this.stopped = true
    if (this.timer !== null) this.deps.clock.clearTimeout(this.timer)
    this.timer = null
    if (this.inflight === 0) return
    await new Promise<void>((resolve) => {
      const t = this.deps.clock.setTimeout(resolve, waitMs)
      this.idle.push(() => {
        this.deps.clock.clearTimeout(t)
        resolve()
      })
    })
  }

  /** POSTs in flight now. */
  get inFlight(): number {
    return this.inflight
  }

  private async pump(): Promise<void> {
    this.pumping = true
    const { outbox, owner, options, clock } = this.deps
    try {
      do {
        this.again = false
        while (!this.stopped && this.inflight < options.concurrency) {
          const claimed = await outbox.claim(owner, clock.now(), this.leaseMs, options.concurrency - this.inflight)
          if (claimed.length === 0) break
          for (const entry of claimed) this.launch(entry)
        }
      } while (this.again && !this.stopped)
      if (!this.stopped) await this.schedule()
    } catch (err) {
      this.deps.events?.error?.(err)
      if (!this.stopped) this.arm(options.pollMs)
    } finally {
      this.pumping = false
    }
  }

  /** The next look: when the next entry is due, and at least every `pollMs` (other nodes enqueue too). */
  private async schedule(): Promise<void> {
    const { outbox, options, clock } = this.deps
    const due = this.inflight < options.concurrency ? await outbox.nextDueAt() : null
    // A few ms at least: a head that is due but was not claimable (a race with another node) must not spin.
    const wait = due === null ? options.pollMs : Math.min(options.pollMs, Math.max(5, due - clock.now()))
    this.arm(wait)
  }

  private arm(ms: number): void {
    if (this.timer !== null) this.deps.clock.clearTimeout(this.timer)
    this.timer = this.deps.clock.setTimeout(() => {
      this.timer = null
      this.wake()
    }, ms)
  }

  private launch(entry: OutboxEntry): void {
    this.inflight++
    void this.deliver(entry)
      .catch((err: unknown) => this.deps.events?.error?.(err))
      .finally(() => {
        this.inflight--
        if (this.inflight === 0) for (const f of this.idle.splice(0)) f()
        this.wake()
      })
  }

  private async deliver(entry: OutboxEntry): Promise<void> {
    const { outbox, options, clock, events } = this.deps
    const started = clock.now()
    const key = await this.deps.signingKey(entry.appId)
    let result: PostResult
    if (!key) result = { error: 'the app has no live key to sign with' }
    else result = await this.deps.post(entry.url, entry.body, webhookHeaders(key.keyId, key.secret, entry.body), options.timeoutMs)
    const at = clock.now()
    const attempt = entry.attempts + 1
    const base: Omit<DeliveryAttempt, 'outcome'> = {
      attempt,
      latencyMs: at - started,
      at,
      ...('status' in result ? { httpStatus: result.status } : { error: result.error }),
    }
    if ('status' in result && result.status >= 200 && result.status < 300) {
      await outbox.finish(entry, { ...base, outcome: 'delivered' })
      events?.delivered?.(entry.appId, at - started)
      return
    }
    const next = at + retryDelay(attempt, { baseMs: options.backoffMs, maxMs: options.maxBackoffMs }, this.random)
    const permanent = 'error' in result && result.permanent === true
    if (permanent || next > entry.createdAt + options.retryForMs) {
      await outbox.finish(entry, { ...base, outcome: 'dropped' })
      events?.dropped?.(entry.appId)
      return
    }
    await outbox.retry(entry, next, { ...base, outcome: 'retrying' })
    events?.retried?.(entry.appId)
  }
}
