import type { Clock } from './clock.js'
import type { WebhookEvent } from './events.js'

interface Pending {
  events: WebhookEvent[]
  timer: unknown
}

/**
 * Gathers one app's events that happen close together into one batch: the first event
 * starts a `windowMs` timer, and the batch goes to `flush` when it fires (or at `maxEvents`).
 * Events keep the order they were added in; flushes of one app run one after the other, so
 * batches reach the outbox in order too. A newer `subscription_count` of a channel replaces
 * one still waiting in the batch (only the latest count matters).
 */
export class Batcher {
  private readonly pending = new Map<string, Pending>()
  private readonly flushing = new Map<string, Promise<void>>()

  constructor(
    private readonly clock: Clock,
    private readonly windowMs: number,
    private readonly maxEvents: number,
    private readonly flush: (appId: string, events: WebhookEvent[]) => Promise<void>,
    private readonly onError: (err: unknown, appId: string) => void,
  ) {}

  add(appId: string, event: WebhookEvent): void {
    let p = this.pending.get(appId)
    if (!p) {
      p = { events: [], timer: this.clock.setTimeout(() => this.release(appId), this.windowMs) }
      this.pending.set(appId, p)
    }
    if (event.name === 'subscription_count') {
      const i = p.events.findIndex((e) => e.name === 'subscription_count' && e.channel === event.channel)
      if (i >= 0) p.events.splice(i, 1)
    }
    p.events.push(event)
    if (p.events.length >= this.maxEvents) this.release(appId)
  }

  /** Hands every waiting batch to `flush` now and resolves when all flushes are done. */
  async drain(): Promise<void> {
    for (const appId of [...this.pending.keys()]) this.release(appId)
    await Promise.all([...this.flushing.values()])
  }

  private release(appId: string): void {
    const p = this.pending.get(appId)
    if (!p) return
    this.pending.delete(appId)
    this.clock.clearTimeout(p.timer)
    const previous = this.flushing.get(appId) ?? Promise.resolve()
    const next = previous.then(() => this.flush(appId, p.events)).catch((err: unknown) => this.onError(err, appId))
    this.flushing.set(appId, next)
    void next.then(() => {
      if (this.flushing.get(appId) === next) this.flushing.delete(appId)
    })
  }
}
