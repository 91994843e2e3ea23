import { randomBytes } from 'node:crypto'
import { Redis, type RedisOptions } from 'ioredis'
import { z } from 'zod'
import type { ControlBus, ControlEvent } from './control-bus.js'

/** The Redis channel control events travel on. */
export const CONTROL_CHANNEL = 'herald:control'

const EventSchema = z.discriminatedUnion('type', [
  z.object({ type: z.literal('app.updated'), appId: z.string() }),
  z.object({ type: z.literal('app.deleted'), appId: z.string() }),
  z.object({ type: z.literal('key.created'), appId: z.string(), keyId: z.string() }),
  z.object({ type: z.literal('key.revoked'), appId: z.string(), keyId: z.string() }),
  z.object({ type: z.literal('user.terminate'), appId: z.string(), userId: z.string() }),
])
/** What goes over the wire: the emitting node's id and the event. */
const EnvelopeSchema = z.object({ node: z.string(), event: EventSchema })

export interface RedisControlBusOptions {
  /** A `redis://` (or `rediss://`) URL; default `redis://127.0.0.1:6379`. */
  url?: string
  /** Extra ioredis options for both connections. */
  redis?: RedisOptions
  /** The Redis channel; default {@link CONTROL_CHANNEL}. */
  channel?: string
  /** This node's id, to recognise its own events; random by default. */
  nodeId?: string
  /** A message that is not a valid event, or a connection error (ioredis reconnects by itself). */
  onError?: (err: Error) => void
  /**
   * Called when the subscriber is back after losing its connection: events published
   * meanwhile were missed, so caches fed by this bus should be dropped.
   */
  onResubscribed?: () => void
}

/**
 * The control bus of nodes sharing a Redis: one publisher and one subscriber connection on
 * channel `herald:control`, JSON messages `{"node","event"}`. `emit` hands the event to the
 * local handler at once and publishes it; the subscriber skips messages from its own node, so
 * every node, the emitter included, sees each event exactly once.
 * Events are fire-and-forget (Redis pub/sub): a node that is disconnected misses them, which
 * `onResubscribed` reports.
 *
 * @example
 * const bus = new RedisControlBus({ url: process.env.HERALD_REDIS_URL })
 * await bus.start((event) => registry.invalidate(event))
 * await bus.emit({ type: 'key.revoked', appId, keyId })
 */
export class RedisControlBus implements ControlBus {
  readonly nodeId: string
  private readonly channel: string
  private readonly publisher: Redis
  private readonly subscriber: Redis
  private handler: ((event: ControlEvent) => void) | null = null
  private subscribedOnce = false
  private lostConnection = false

  constructor(private readonly options: RedisControlBusOptions = {}) {
    this.nodeId = options.nodeId ?? 'node_' + randomBytes(8).toString('hex')
    this.channel = options.channel ?? CONTROL_CHANNEL
    const url = options.url ?? 'redis://127.0.0.1:6379'
    // Fail fast like the broker: an emit while Redis is unreachable rejects at once (the caller
    // answers with an error) instead of waiting in ioredis's offline queue for a minute or more.
    const redisOptions: RedisOptions = {
      lazyConnect: true,
      enableOfflineQueue: false,
      maxRetriesPerRequest: 1,
      commandTimeout: 5000,
      connectTimeout: 5000,
      ...options.redis,
    }
    this.publisher = new Redis(url, redisOptions)
    this.subscriber = new Redis(url, redisOptions)
    const onError = (err: Error) => options.onError?.(err)
    this.publisher.on('error', onError)
    this.subscriber.on('error', onError)
    this.subscriber.on('close', () => {
      if (this.subscribedOnce) this.lostConnection = true
    })
    // ioredis subscribes again by itself after a reconnect; `ready` follows that.
    this.subscriber.on('ready', () => {
      if (!this.lostConnection) return
      this.lostConnection = false
      options.onResubscribed?.()
    })
    this.subscriber.on('message', (channel: string, text: string) => {
      if (channel === this.channel) this.receive(text)
    })
  }

  async start(onEvent: (event: ControlEvent) => void): Promise<void> {
    this.handler = onEvent
    await Promise.all([this.publisher, this.subscriber].map((r) => (r.status === 'wait' ? r.connect() : undefined)))
    await this.subscriber.subscribe(this.channel)
    this.subscribedOnce = true
  }

  async emit(event: ControlEvent): Promise<void> {
    this.deliver(event)
    await this.publisher.publish(this.channel, JSON.stringify({ node: this.nodeId, event }))
  }

  async close(): Promise<void> {
    this.handler = null
    this.subscribedOnce = false
    await Promise.all([this.publisher, this.subscriber].map((r) => end(r)))
  }

  private receive(text: string): void {
    let parsed: z.infer<typeof EnvelopeSchema>
    try {
      parsed = EnvelopeSchema.parse(JSON.parse(text))
    } catch (err) {
      this.options.onError?.(new Error(`ignored a malformed control message on ${this.channel}: ${String(err)}`))
      return
    }
    if (parsed.node !== this.nodeId) this.deliver(parsed.event)
  }

  private deliver(event: ControlEvent): void {
    try {
      this.handler?.(event)
    } catch (err) {
      this.options.onError?.(err instanceof Error ? err : new Error(String(err)))
    }
  }
}

/** Closes a connection politely when it is up, at once otherwise. */
async function end(redis: Redis): Promise<void> {
  if (redis.status === 'end') return
  if (redis.status === 'ready') {
    try {
      await redis.quit()
      return
    } catch {
      // fall through to a hard disconnect
    }
  }
  redis.disconnect()
}
