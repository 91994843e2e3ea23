import { CloseCodes } from '@herald/protocol'
import { Counter, Gauge, Registry, collectDefaultMetrics } from 'prom-client'
import type { Hub } from './engine/hub.js'

/** Resolution of the event-loop delay histogram behind `nodejs_eventloop_lag_*_seconds`, in ms. */
export const EVENT_LOOP_PRECISION_MS = 10

/**
 * Prometheus metrics of the node (prom-client). Per app and per transport; label values are
 * app ids (public) and transport names, never tokens or channel names (unbounded cardinality).
 */
export class Metrics {
  readonly registry = new Registry()
  readonly connections = new Gauge({
    name: 'herald_connections',
    help: 'Open client connections',
    labelNames: ['app', 'transport'],
    registers: [this.registry],
  })
  readonly subscriptions = new Gauge({
    name: 'herald_subscriptions',
    help: 'Active channel subscriptions',
    labelNames: ['app', 'transport'],
    registers: [this.registry],
  })
  /** Publishes counted since the last scrape, per app and `via` (added to {@link messagesIn} when it is read). */
  private readonly pendingPublished = new Map<string, { labels: { app: string; via: string }; n: number }>()
  readonly messagesIn: Counter<'app' | 'via'> = new Counter({
    name: 'herald_messages_published_total',
    help: 'Messages published',
    labelNames: ['app', 'via'],
    registers: [this.registry],
    collect: () => this.flushPublished(),
  })
  readonly drops = new Counter({
    name: 'herald_slow_consumer_drops_total',
    help: `Connections closed for being too slow (${CloseCodes.rateLimited})`,
    labelNames: ['app', 'transport'],
    registers: [this.registry],
  })
  readonly authFailures = new Counter({
    name: 'herald_auth_failures_total',
    help: 'Rejected credentials',
    labelNames: ['app', 'transport', 'code'],
    registers: [this.registry],
  })
  /** `not_found` rejections name app ids that do not exist: they are counted as `app="unknown"`, so random ids cannot add series without bound. */
  readonly rejected = foldUnknownApps(
    new Counter({
      name: 'herald_requests_rejected_total',
      help: 'Requests or frames rejected with a contract error',
      labelNames: ['app', 'transport', 'code'],
      registers: [this.registry],
    }),
  )

  readonly webhookDeliveries = new Counter({
    name: 'herald_webhook_deliveries_total',
    help: 'Webhook POSTs delivered (2xx)',
    labelNames: ['app'],
    registers: [this.registry],
  })
  readonly webhookRetries = new Counter({
    name: 'herald_webhook_retries_total',
    help: 'Webhook attempts that failed (non-2xx, timeout, network) and will be retried',
    labelNames: ['app'],
    registers: [this.registry],
  })
  readonly webhookFailures = new Counter({
    name: 'herald_webhook_failures_total',
    help: 'Webhook POSTs dropped: retries exhausted, or the URL refused',
    labelNames: ['app'],
    registers: [this.registry],
  })

  constructor() {
    // The runtime's metrics under prom-client's standard names (`process_*`, `nodejs_*`), the
    // names operators' Node.js dashboards and alerts already use; event-loop delay sampled every 10 ms.
    collectDefaultMetrics({ register: this.registry, eventLoopMonitoringPrecision: EVENT_LOOP_PRECISION_MS })
  }

  /**
   * Delivered and published totals are read from the hub's counters when scraped, so the
   * per-delivery hot path only adds to a plain number.
   */
  bindHub(hub: Hub): void {
    const read = (field: 'published' | 'delivered') =>
      function (this: Gauge) {
        this.reset()
        for (const [app, s] of Object.entries(hub.localState())) this.set({ app }, s[field])
      }
    new Gauge({
      name: 'herald_messages_delivered',
      help: 'Messages delivered to clients by this node (monotonic)',
      labelNames: ['app'],
      registers: [this.registry],
      collect: read('delivered'),
    })
    new Gauge({
      name: 'herald_messages_accepted',
      help: 'Messages accepted for publishing by this node (monotonic)',
      labelNames: ['app'],
      registers: [this.registry],
      collect: read('published'),
    })
  }

  /** `herald_webhook_queue_depth{app}`: POSTs waiting in the app's outbox, read when scraped (the outbox is shared: every node reports the same value). */
  bindWebhookQueue(depth: () => Promise<Record<string, number>>): void {
    // An app whose queue emptied reports 0 (not a vanished series), so graphs fall to zero.
    const seen = new Set<string>()
    new Gauge({
      name: 'herald_webhook_queue_depth',
      help: 'Webhook POSTs waiting in the outbox, per app',
      labelNames: ['app'],
      registers: [this.registry],
      async collect() {
        const d = await depth().catch(() => null)
        if (!d) return
        this.reset()
        for (const app of Object.keys(d)) seen.add(app)
        for (const app of seen) this.set({ app }, d[app] ?? 0)
      },
    })
  }

  /** Counts `n` published messages: a plain addition here, hashed into the counter's labels only when it is scraped. */
  countPublished(app: string, via: string, n: number): void {
    const key = `${app}\u0000${via}`
    const entry = this.pendingPublished.get(key)
    if (entry) entry.n += n
    else this.pendingPublished.set(key, { labels: { app, via }, n })
  }

  private flushPublished(): void {
    for (const e of this.pendingPublished.values()) if (e.n > 0) this.messagesIn.inc(e.labels, e.n)
    this.pendingPublished.clear()
  }

  connectionOpened(app: string, transport: string): void {
    this.connections.inc({ app, transport })
  }

  connectionClosed(app: string, transport: string): void {
    this.connections.dec({ app, transport })
  }
}

/** Replaces the `app` label of `not_found` increments with `unknown` (the id came from the caller and names no app). */
function foldUnknownApps<T extends Counter<'app' | 'transport' | 'code'>>(counter: T): T {
  const inc = counter.inc.bind(counter) as (labels: Partial<Record<'app' | 'transport' | 'code', string>>, value?: number) => void
  counter.inc = ((labels: Partial<Record<'app' | 'transport' | 'code', string>>, value?: number) =>
    inc(labels.code === 'not_found' ? { ...labels, app: 'unknown' } : labels, value)) as T['inc']
  return counter
}
