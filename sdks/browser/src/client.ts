import { isValidChannel, type PublishReply, type ServerFrame } from '@herald/protocol'
import { Backoff, type BackoffOptions } from './backoff.js'
import { Emitter } from './emitter.js'
import { HeraldError } from './errors.js'
import { requestJson } from './http.js'
import { closeAction, closeReason, type ConnectionState, type StateChange } from './state.js'
import { Subscription, type PublishOptions, type PublishResult, type SubscribeOptions, type SubscriptionHost } from './subscription.js'
import { refreshDelay } from './token.js'
import { longpollTransport } from './transports/longpoll.js'
import { sseTransport } from './transports/sse.js'
import type { Transport, TransportClose, TransportEnv, TransportFactory, TransportName } from './transports/transport.js'
import { websocketTransport } from './transports/websocket.js'
import type { Message } from '@herald/protocol'

/** Options of {@link Client}. */
export interface ClientOptions {
  /** `https://push.example.com`; default: the page's origin. */
  url?: string
  appId: string
  /** A client JWT; without one (and without `getToken`) the client is anonymous. */
  token?: string
  /** Fetches a fresh token: before `exp`, and once after an unauthorized answer. */
  getToken?: () => Promise<string>
  /** Transports in order of preference (default `['websocket', 'sse', 'longpoll']`). */
  transports?: TransportName[]
  /** Opening may take this long (ms) before the next transport is tried (default 5000). */
  connectTimeout?: number
  backoff?: BackoffOptions
  /** Connect right away (default true); else call `connect()`. */
  autoConnect?: boolean
  /** Globals to use instead of the browser's (tests, other runtimes). */
  env?: Partial<TransportEnv>
  /** Transport implementations by name (default: the built-in three). */
  factories?: Partial<Record<TransportName, TransportFactory>>
}

/** Events of a {@link Client}. */
export interface ClientEvents {
  state: StateChange
  /** An error not tied to a channel (a channel's errors go to its subscription). */
  error: { code: string; message: string }
}

const FACTORIES: Record<TransportName, TransportFactory> = {
  websocket: websocketTransport,
  sse: sseTransport,
  longpoll: longpollTransport,
}

/**
 * A connection to Herald over WebSocket, SSE or long-poll, whichever works first in the
 * `transports` order, that reconnects with full-jitter backoff, refreshes its token before
 * it expires, and resumes every subscription where it left off.
 *
 * @example
 * const client = new Herald.Client({ url: 'https://push.example.com', appId, getToken })
 * client.on('state', ({ previous, current, reason }) => console.log(previous, '→', current, reason))
 * client.subscribe('chat', (message) => console.log(message.data))
 * await client.publish('chat', { text: 'hi' }, { name: 'greeting' })
 */
export class Client extends Emitter<ClientEvents> {
  state: ConnectionState = 'disconnected'
  /** The `sub` of the token, once connected over WebSocket. */
  clientId: string | undefined

  private readonly url: string
  private readonly order: TransportName[]
  private readonly env: TransportEnv
  private readonly backoff: Backoff
  private readonly subs = new Map<string, Subscription>()
  private readonly host: SubscriptionHost
  private token: string | undefined
  private current: Transport | null = null
  private live = false
  private generation = 0
  private preferred = 0
  private index = 0
  private tries = 0
  private authRetried = false
  private stopped = false
  private retryTimer: ReturnType<typeof setTimeout> | undefined
  private refreshTimer: ReturnType<typeof setTimeout> | undefined

  constructor(private readonly options: ClientOptions) {
    super()
    if (!options?.appId) throw new HeraldError('bad_request', 'appId is required')
    this.url = (options.url ?? globalThis.location?.origin ?? '').replace(/\/+$/, '')
    this.order = (options.transports ?? ['websocket', 'sse', 'longpoll']).filter((n) => options.factories?.[n] ?? FACTORIES[n])
    if (!this.order.length) throw new HeraldError('bad_request', 'no known transport in options.transports')
    const g = globalThis
    this.env = {
      WebSocket: options.env?.WebSocket ?? g.WebSocket,
      EventSource: options.env?.EventSource ?? g.EventSource,
      fetch: options.env?.fetch ?? ((input, init) => g.fetch(input, init)),
    }
    this.backoff = new Backoff(options.backoff)
    if (options.token) this.useToken(options.token)
    this.host = {
      request: (frame) => (this.live && this.current?.request?.(frame)) || null,
      get: async (path) => requestJson(this.env.fetch, this.api(path), await this.httpToken()),
      publish: (channel, data, opts) => this.publish(channel, data, opts),
      remove: (sub) => {
        if (this.subs.get(sub.channel) !== sub) return
        this.subs.delete(sub.channel)
        this.current?.unsubscribe(sub.channel)
      },
    }
    this.listen(true)
    if (options.autoConnect !== false) queueMicrotask(() => this.stopped || this.state !== 'disconnected' || this.connect())
  }

  /** The transport in use while connected, else `null`. */
  get transport(): TransportName | null {
    return this.live && this.current ? this.current.name : null
  }

  /**
   * Subscribes to a channel (or returns the existing subscription, adding `onMessage`).
   * Works in any state; the subscription follows the connection.
   */
  subscribe(channel: string, onMessage?: (message: Message) => void, options?: SubscribeOptions): Subscription {
    if (!isValidChannel(channel)) throw new HeraldError('bad_request', `invalid channel name: ${channel}`)
    let sub = this.subs.get(channel)
    if (!sub) {
      sub = new Subscription(channel, this.host, options)
      this.subs.set(channel, sub)
      this.current?.subscribe(sub._start())
    }
    if (onMessage) sub.on('message', onMessage)
    return sub
  }

  /** The subscription of a channel, if any. */
  getSubscription(channel: string): Subscription | undefined {
    return this.subs.get(channel)
  }

  /**
   * Publishes a message: over the WebSocket when connected on it, else with
   * `POST /v1/apps/:appId/messages` (the token needs `publish` on the channel).
   */
  async publish(channel: string, data: unknown, options: PublishOptions = {}): Promise<PublishResult> {
    const p = this.host.request({ op: 'publish', channel, data, ...options })
    if (p) {
      const { channel: c, id, seq, epoch } = (await p) as Extract<ServerFrame, { op: 'published' }>
      return { channel: c, id, seq, epoch }
    }
    const reply = await requestJson<PublishReply>(this.env.fetch, this.api('messages'), await this.httpToken(), { channel, data, ...options })
    return reply.messages[0]!
  }

  /** Connects (again): after `close()`, after `failed`, or with `autoConnect: false`. */
  connect(): void {
    if (this.state === 'connecting' || this.state === 'connected') return
    this.stopped = false
    this.listen(true)
    this.authRetried = false
    this.backoff.reset()
    this.cycle('connect')
  }

  /** Disconnects and stops reconnecting; subscriptions are kept for a later `connect()`. */
  close(): void {
    this.stopped = true
    this.listen(false)
    this.drop()
    clearTimeout(this.refreshTimer)
    this.setState('disconnected', 'closed')
  }

  /** The token for an HTTP call; asks `getToken` when there is none yet. */
  private async httpToken(): Promise<string | undefined> {
    if (this.token === undefined && this.options.getToken) this.useToken(await this.options.getToken())
    return this.token
  }

  private api(path: string): string {
    return `${this.url}/v1/apps/${encodeURIComponent(this.options.appId)}/${path}`
  }

  /** The one place state changes and `state` events are emitted. */
  private setState(current: ConnectionState, reason: string, retryIn?: number): void {
    const previous = this.state
    if (previous === current) return
    this.state = current
    this.emit('state', retryIn === undefined ? { previous, current, reason } : { previous, current, reason, retryIn })
  }

  /** Ends the current transport (its callbacks are ignored from now on) and any retry. */
  private drop(): void {
    this.generation++
    clearTimeout(this.retryTimer)
    this.current?.close()
    this.current = null
    this.live = false
    for (const sub of this.subs.values()) sub._pending()
  }

  /** Starts a round through the transports, from the last one that worked. */
  private cycle(reason: string): void {
    this.index = this.preferred
    this.tries = 0
    this.attempt(reason)
  }

  private attempt(reason: string): void {
    this.drop()
    const gen = this.generation
    this.setState('connecting', reason)
    if (this.token === undefined && this.options.getToken) {
      this.options.getToken().then(
        (token) => {
          if (gen !== this.generation) return
          this.useToken(token)
          this.open(gen)
        },
        (err) => gen === this.generation && this.retry(`getToken failed: ${err}`),
      )
    } else this.open(gen)
  }

  private open(gen: number): void {
    const name = this.order[this.index]!
    const factory = this.options.factories?.[name] ?? FACTORIES[name]
    const live =
      <A extends unknown[]>(fn: (...args: A) => void) =>
      (...args: A) => {
        if (gen === this.generation) fn(...args)
      }
    this.current = factory({
      url: this.url,
      appId: this.options.appId,
      token: this.token,
      env: this.env,
      connectTimeout: this.options.connectTimeout ?? 5000,
      channels: () => [...this.subs.values()].map((s) => s._start()),
      handlers: {
        open: live(({ clientId }) => {
          this.live = true
          this.clientId = clientId
          this.authRetried = false
          this.preferred = this.index
          this.backoff.reset()
          this.setState('connected', name)
        }),
        subscribed: live((s) => this.subs.get(s.channel)?._subscribed(s)),
        message: live((m) => this.subs.get(m.channel)?._message(m)),
        presence: live((e) => this.subs.get(e.channel)?._presence(e)),
        error: live((e) => (e.channel ? this.subs.get(e.channel)?._error(e) : this.emit('error', e))),
        close: live((info) => this.ended(info)),
      },
    })
    try {
      this.current.open()
    } catch (err) {
      // e.g. no EventSource in this runtime: that transport cannot work here, try the next
      queueMicrotask(() => gen === this.generation && this.ended({ opened: false, message: String(err) }))
    }
  }

  private ended(info: TransportClose): void {
    this.drop()
    const action = closeAction(info)
    const reason = closeReason(info)
    if (action === 'auth') {
      if (!this.options.getToken || this.authRetried) return this.fail(reason)
      this.authRetried = true
      this.token = undefined
      return this.attempt('token refresh')
    }
    if (action === 'fatal') return this.fail(reason)
    if (action === 'fallback' && ++this.tries < this.order.length) {
      this.index = (this.index + 1) % this.order.length
      return this.attempt('fallback')
    }
    this.retry(reason)
  }

  private retry(reason: string): void {
    this.drop()
    const delay = this.backoff.next()
    this.setState('disconnected', reason, delay)
    this.retryTimer = setTimeout(() => this.cycle('reconnect'), delay)
  }

  private fail(reason: string): void {
    this.drop()
    clearTimeout(this.refreshTimer)
    this.setState('failed', reason)
  }

  private readonly onOffline = () => this.offline()
  private readonly onOnline = () => this.online()

  /** Follows the browser's `online`/`offline` events while not closed. */
  private listen(on: boolean): void {
    const g = globalThis as { addEventListener?: typeof addEventListener; removeEventListener?: typeof removeEventListener }
    const method = on ? g.addEventListener : g.removeEventListener
    method?.call(g, 'offline', this.onOffline)
    method?.call(g, 'online', this.onOnline)
  }

  private offline(): void {
    if (this.stopped || this.state === 'failed') return
    this.drop()
    this.setState('disconnected', 'offline')
  }

  private online(): void {
    if (this.stopped || this.state !== 'disconnected') return
    this.backoff.reset()
    this.cycle('online')
  }

  /** Takes a token into use and schedules its refresh before `exp`. */
  private useToken(token: string): void {
    this.token = token
    clearTimeout(this.refreshTimer)
    const delay = this.options.getToken ? refreshDelay(token, Date.now()) : null
    if (delay !== null) this.refreshTimer = setTimeout(() => this.refresh(), delay)
  }

  private refresh(): void {
    if (this.stopped || this.state === 'failed') return
    this.options.getToken!().then(
      (token) => {
        if (this.stopped || this.state === 'failed') return
        this.useToken(token)
        this.current?.setToken(token)
      },
      () => (this.refreshTimer = setTimeout(() => this.refresh(), 5000)),
    )
  }
}
