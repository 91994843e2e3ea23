import type { PresenceMember } from '@herald/protocol'
import type { App } from '../apps/types.js'
import type { SessionListener } from '../engine/session-events.js'
import type { Logger } from '../logger.js'
import { Batcher } from './batcher.js'
import { type Clock, systemClock } from './clock.js'
import { type WebhookEvent, wants } from './events.js'
import type { Occupancy } from './occupancy.js'
import type { WebhookOptions } from './options.js'
import type { DeliveryRecord, Outbox } from './outbox.js'
import { type PostFn, postWebhook } from './post.js'
import { type SenderEvents, type SigningKeyLookup, WebhookSender } from './sender.js'

/** The parts of a session the webhooks read (a `ClientSession` has them all). */
export interface SessionView {
  appId: string
  app: App
}

/** A Pusher client event, as the Pusher wire reports it. */
export interface ClientEventInput {
  appId: string
  channel: string
  event: string
  data: unknown
  socketId: string
  userId?: string
}

export interface WebhooksDeps {
  outbox: Outbox
  occupancy: Occupancy
  options: WebhookOptions
  /** This node's id (it owns the outbox leases it takes). */
  nodeId: string
  /** This node is the outbox's only sender (the embedded default): a restart releases every lease. */
  soleSender?: boolean
  /** The app as the node knows it now (its `webhooks` setting), null when it is gone. */
  app: (appId: string) => Promise<App | null>
  signingKey: SigningKeyLookup
  logger: Logger
  post?: PostFn
  clock?: Clock
  metrics?: Partial<SenderEvents>
}

/** The channel a test POST names. */
export const TEST_CHANNEL = 'herald-webhook-test'

const channelKey = (channel: string) => `c:${channel}`
const memberKey = (channel: string, userId: string) => `m:${channel}\n${userId}`

/**
 * Webhooks of a node: turns session events into the contract's webhook events, batches
 * them per app, writes them to the outbox and has the sender deliver them.
 *
 * Occupancy (`channel_occupied` / `channel_vacated`, `subscription_count`) and membership
 * (`member_added` / `member_removed`, one per user however many connections it has) are
 * decided cluster-wide by the {@link Occupancy} driver, so one node enqueues each event.
 * Nothing here is awaited by a session: each listener call queues work on the app's own
 * chain (which keeps the app's events in the order they happened) and returns.
 *
 * Only apps that have webhooks are tracked; a holding this node entered is always left,
 * so counts stay right when the setting changes meanwhile.
 */
export class Webhooks implements SessionListener {
  readonly sender: WebhookSender
  private readonly batcher: Batcher
  private readonly clock: Clock
  private readonly chains = new Map<string, Promise<void>>()
  /** Holdings this node entered in the occupancy driver: `appId|key` -> count. */
  private readonly held = new Map<string, number>()

  constructor(private readonly deps: WebhooksDeps) {
    this.clock = deps.clock ?? systemClock
    this.sender = new WebhookSender({
      outbox: deps.outbox,
      owner: deps.nodeId,
      soleOwner: deps.soleSender ?? false,
      signingKey: deps.signingKey,
      post: deps.post ?? postWebhook,
      options: deps.options,
      clock: this.clock,
      events: { error: (err) => deps.logger.warn({ err }, 'webhook delivery failed'), ...deps.metrics },
    })
    this.batcher = new Batcher(
      this.clock,
      deps.options.batchMs,
      deps.options.maxBatchEvents,
      (appId, events) => this.enqueue(appId, events),
      (err, appId) => deps.logger.warn({ err, app: appId }, 'could not write webhook events to the outbox'),
    )
  }

  async start(): Promise<void> {
    await this.deps.occupancy.start(
      (appId, key) => this.gone(appId, key),
      (appId, key, count) => this.restored(appId, key, count),
    )
    await this.sender.start()
  }

  /**
   * Stops sending (POSTs in flight get up to `waitMs`), waits for queued work and writes the
   * batches still waiting to the outbox; whatever is not delivered stays there for the next
   * start (or another node).
   */
  async stop(waitMs?: number): Promise<void> {
    await this.sender.stop(waitMs)
    await Promise.all([...this.chains.values()])
    await this.batcher.drain()
    await this.deps.occupancy.stop()
  }

  // ---- session events ----------------------------------------------------------------

  subscribed(session: SessionView, channel: string): void {
    this.enter(session, channelKey(channel), (change) => {
      if (change.edge) this.emit(session.appId, { name: 'channel_occupied', channel })
      this.emit(session.appId, { name: 'subscription_count', channel, subscription_count: change.count })
    })
  }

  unsubscribed(session: SessionView, channel: string): void {
    this.leave(session.appId, channelKey(channel), (change) => {
      this.emit(session.appId, { name: 'subscription_count', channel, subscription_count: change.count })
      if (change.edge) this.emit(session.appId, { name: 'channel_vacated', channel })
    })
  }

  joined(session: SessionView, channel: string, member: PresenceMember): void {
    this.enter(session, memberKey(channel, member.clientId), (change) => {
      if (change.edge) this.emit(session.appId, { name: 'member_added', channel, user_id: member.clientId })
    })
  }

  left(session: SessionView, channel: string, member: PresenceMember): void {
    this.leave(session.appId, memberKey(channel, member.clientId), (change) => {
      if (change.edge) this.emit(session.appId, { name: 'member_removed', channel, user_id: member.clientId })
    })
  }

  /** A client event (`client-*`) a client sent on a channel. */
  clientEvent(e: ClientEventInput): void {
    this.queue(e.appId, async () =>
      this.emit(e.appId, {
        name: 'client_event',
        channel: e.channel,
        event: e.event,
        data: typeof e.data === 'string' ? e.data : JSON.stringify(e.data),
        socket_id: e.socketId,
        ...(e.userId !== undefined ? { user_id: e.userId } : {}),
      }),
    )
  }

  /** A subscriber of a cache channel found no cached event. */
  cacheMiss(appId: string, channel: string): void {
    this.queue(appId, async () => this.emit(appId, { name: 'cache_miss', channel }))
  }

  /** The app was deleted: forget this node's holdings (its outbox rows went with it). */
  forgetApp(appId: string): void {
    for (const k of [...this.held.keys()]) if (k.startsWith(`${appId}|`)) this.held.delete(k)
    this.queue(appId, () => this.deps.occupancy.forgetApp(appId))
  }

  // ---- admin ---------------------------------------------------------------------------

  /**
   * Queues a test POST to each of the app's webhooks (whatever their `events`): a
   * `channel_occupied` and a `channel_vacated` of {@link TEST_CHANNEL}. Returns how many.
   */
  async test(app: App): Promise<number> {
    const events: WebhookEvent[] = [
      { name: 'channel_occupied', channel: TEST_CHANNEL },
      { name: 'channel_vacated', channel: TEST_CHANNEL },
    ]
    const body = JSON.stringify({ time_ms: this.clock.now(), events })
    for (const hook of app.settings.webhooks) {
      await this.deps.outbox.enqueue({ appId: app.id, url: hook.url, body, eventNames: events.map((e) => e.name) }, this.clock.now())
    }
    this.sender.wake()
    return app.settings.webhooks.length
  }

  deliveries(appId: string, limit: number): Promise<DeliveryRecord[]> {
    return this.deps.outbox.deliveries(appId, limit)
  }

  /** Pending POSTs per app (all nodes: the outbox is shared). */
  depth(): Promise<Record<string, number>> {
    return this.deps.outbox.depth()
  }

  // ---- internals -----------------------------------------------------------------------

  private enter(session: SessionView, key: string, then: (change: { edge: boolean; count: number }) => void): void {
    if (session.app.settings.webhooks.length === 0) return
    const k = `${session.appId}|${key}`
    this.held.set(k, (this.held.get(k) ?? 0) + 1)
    this.queue(session.appId, async () => then(await this.deps.occupancy.enter(session.appId, key)))
  }

  private leave(appId: string, key: string, then: (change: { edge: boolean; count: number }) => void): void {
    const k = `${appId}|${key}`
    const n = this.held.get(k) ?? 0
    if (n === 0) return
    if (n === 1) this.held.delete(k)
    else this.held.set(k, n - 1)
    this.queue(appId, async () => then(await this.deps.occupancy.leave(appId, key)))
  }

  /** A key a dead node (or this node's previous run) left with no holder anywhere. */
  private gone(appId: string, key: string): void {
    this.queue(appId, async () => {
      if (key.startsWith('c:')) {
        const channel = key.slice(2)
        this.emit(appId, { name: 'subscription_count', channel, subscription_count: 0 })
        this.emit(appId, { name: 'channel_vacated', channel })
      } else if (key.startsWith('m:')) {
        const nl = key.indexOf('\n')
        this.emit(appId, { name: 'member_removed', channel: key.slice(2, nl), user_id: key.slice(nl + 1) })
      }
    })
  }

  /** A key this node holds again after it had been swept as dead (it stalled), nobody else holding it. */
  private restored(appId: string, key: string, count: number): void {
    this.queue(appId, async () => {
      if (key.startsWith('c:')) {
        const channel = key.slice(2)
        this.emit(appId, { name: 'channel_occupied', channel })
        this.emit(appId, { name: 'subscription_count', channel, subscription_count: count })
      } else if (key.startsWith('m:')) {
        const nl = key.indexOf('\n')
        this.emit(appId, { name: 'member_added', channel: key.slice(2, nl), user_id: key.slice(nl + 1) })
      }
    })
  }

  /** Runs `step` after the app's earlier steps (so its events keep their order); errors are logged. */
  private queue(appId: string, step: () => Promise<void>): void {
    const previous = this.chains.get(appId) ?? Promise.resolve()
    const next = previous.then(step).catch((err: unknown) => this.deps.logger.warn({ err, app: appId }, 'webhook occupancy update failed'))
    this.chains.set(appId, next)
    void next.then(() => {
      if (this.chains.get(appId) === next) this.chains.delete(appId)
    })
  }

  private emit(appId: string, event: WebhookEvent): void {
    this.batcher.add(appId, event)
  }

  /** A batch of the app's events: one outbox entry per webhook that wants any of them. */
  private async enqueue(appId: string, events: WebhookEvent[]): Promise<void> {
    const app = await this.deps.app(appId)
    if (!app) return
    const now = this.clock.now()
    let queued = false
    for (const hook of app.settings.webhooks) {
      const mine = events.filter((e) => wants(hook.events, e))
      if (mine.length === 0) continue
      const body = JSON.stringify({ time_ms: now, events: mine })
      await this.deps.outbox.enqueue({ appId, url: hook.url, body, eventNames: mine.map((e) => e.name) }, now)
      queued = true
    }
    if (queued) this.sender.wake()
  }
}
