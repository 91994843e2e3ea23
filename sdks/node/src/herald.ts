import type { ChannelsReply, HistoryReply, MembersReply, PublishReply } from '@herald/protocol'
import { basicAuthorization } from './credentials.js'
import { HttpClient, type FetchLike } from './http.js'
import { newMessageId } from './ids.js'
import { DEFAULT_RETRY_POLICY } from './retry.js'
import { signToken, type TokenOptions } from './token.js'

export interface HeraldOptions {
  /** Base URL of the service, e.g. `https://push.example.com`. */
  url: string
  appId: string
  keyId: string
  secret: string
  /** Timeout of each attempt in milliseconds (default 10 000). */
  timeoutMs?: number
  /** Extra attempts on network errors, timeouts, 5xx and 429 (default 3). */
  retries?: number
  /** The `fetch` to use (default: the global one). */
  fetch?: FetchLike
}

/** Where a published message went: its channel, id, and position. */
export type PublishResult = PublishReply['messages'][number]

export interface PublishOptions {
  /** Event name of the message. */
  name?: string
  /** Idempotency id; made by the SDK when absent, so retries are never delivered twice. */
  id?: string
}

/** One message of {@link Herald.publishBatch}. */
export interface BatchMessage extends PublishOptions {
  channel: string
  data: unknown
}

export interface HistoryOptions {
  /** How many messages (the service caps it). */
  limit?: number
  /** Messages after this `seq`, oldest first; without it, the latest `limit`. */
  after?: number
}

export interface ChannelsOptions {
  /** Only channels whose name starts with this. */
  prefix?: string
}

export const DEFAULT_TIMEOUT_MS = 10_000

function required(options: HeraldOptions, field: 'url' | 'appId' | 'keyId' | 'secret'): string {
  const value = options?.[field]
  if (typeof value !== 'string' || value.length === 0) throw new TypeError(`Herald: options.${field} is required`)
  return value
}

function query(params: Record<string, string | number | undefined>): string {
  const search = new URLSearchParams()
  for (const [k, v] of Object.entries(params)) if (v !== undefined) search.set(k, String(v))
  const text = search.toString()
  return text ? `?${text}` : ''
}

/**
 * Server SDK of Herald: publish, history, presence, channel list and client tokens.
 * Uses only `fetch` and WebCrypto, so it runs on Node and on edge runtimes.
 *
 * @example
 * const herald = new Herald({ url: 'https://push.example.com', appId, keyId, secret })
 * const { seq } = await herald.publish('chat', { text: 'hi' }, { name: 'greeting' })
 */
export class Herald {
  private readonly http: HttpClient
  private readonly appPath: string
  private readonly keyId: string
  private readonly secret: string

  constructor(options: HeraldOptions) {
    const url = required(options, 'url').replace(/\/+$/, '')
    const appId = required(options, 'appId')
    this.keyId = required(options, 'keyId')
    this.secret = required(options, 'secret')
    const retries = options.retries ?? DEFAULT_RETRY_POLICY.retries
    const timeoutMs = options.timeoutMs ?? DEFAULT_TIMEOUT_MS
    if (!Number.isInteger(retries) || retries < 0) throw new TypeError('Herald: options.retries must be an integer >= 0')
    if (!(timeoutMs > 0)) throw new TypeError('Herald: options.timeoutMs must be > 0')
    const fetchFn: FetchLike = options.fetch ?? ((input, init) => fetch(input, init))
    this.appPath = `/v1/apps/${encodeURIComponent(appId)}`
    this.http = new HttpClient({
      baseUrl: url,
      authorization: basicAuthorization(this.keyId, this.secret),
      timeoutMs,
      retry: { ...DEFAULT_RETRY_POLICY, retries },
      fetch: fetchFn,
    })
  }

  /**
   * Publishes `data` to one channel (→ one result) or to several at once (→ one result per
   * channel, all with the same id). An id is made once when none is given, so a retried
   * publish is delivered once.
   *
   * @example
   * await herald.publish('chat', { text: 'hi' }, { name: 'greeting' }) // { channel, id, seq, epoch }
   * await herald.publish(['a', 'b'], 42) // [{ channel: 'a', … }, { channel: 'b', … }]
   */
  publish(channel: string, data: unknown, options?: PublishOptions): Promise<PublishResult>
  publish(channels: string[], data: unknown, options?: PublishOptions): Promise<PublishResult[]>
  async publish(target: string | string[], data: unknown, options: PublishOptions = {}): Promise<PublishResult | PublishResult[]> {
    const id = options.id ?? newMessageId()
    const common = { ...(options.name !== undefined ? { name: options.name } : {}), data, id }
    if (Array.isArray(target)) {
      const reply = await this.http.request<PublishReply>({ method: 'POST', path: `${this.appPath}/messages`, body: { channels: target, ...common } })
      return reply.messages
    }
    const reply = await this.http.request<PublishReply>({ method: 'POST', path: `${this.appPath}/messages`, body: { channel: target, ...common } })
    return reply.messages[0]!
  }

  /**
   * Publishes up to 100 messages atomically: all of them or none. Each message without an
   * id gets one, made once.
   *
   * @example
   * await herald.publishBatch([{ channel: 'a', data: 1 }, { channel: 'b', data: 2, name: 'n' }])
   */
  async publishBatch(messages: BatchMessage[]): Promise<PublishResult[]> {
    const body = {
      messages: messages.map((m) => ({
        channel: m.channel,
        ...(m.name !== undefined ? { name: m.name } : {}),
        data: m.data,
        id: m.id ?? newMessageId(),
      })),
    }
    const reply = await this.http.request<PublishReply>({ method: 'POST', path: `${this.appPath}/messages`, body })
    return reply.messages
  }

  /**
   * A channel's history, oldest first: the latest `limit` messages, or the next `limit` after `after`.
   *
   * @example
   * const { epoch, messages } = await herald.history('chat', { limit: 10 })
   */
  history(channel: string, options: HistoryOptions = {}): Promise<HistoryReply> {
    const path = `${this.appPath}/channels/${encodeURIComponent(channel)}/messages${query({ limit: options.limit, after: options.after })}`
    return this.http.request<HistoryReply>({ method: 'GET', path })
  }

  /**
   * The presence members of a channel.
   *
   * @example
   * const { members, count } = await herald.members('presence-room')
   */
  members(channel: string): Promise<MembersReply> {
    return this.http.request<MembersReply>({ method: 'GET', path: `${this.appPath}/channels/${encodeURIComponent(channel)}/presence` })
  }

  /**
   * Active channels (with at least one subscriber), optionally by name prefix.
   *
   * @example
   * const { channels } = await herald.channels({ prefix: 'chat:' }) // [{ name, subscribers }]
   */
  channels(options: ChannelsOptions = {}): Promise<ChannelsReply> {
    return this.http.request<ChannelsReply>({ method: 'GET', path: `${this.appPath}/channels${query({ prefix: options.prefix })}` })
  }

  /**
   * Signs a client token (JWT, HS256) with this key, for the browser SDK, WebSocket, SSE and poll.
   *
   * @example
   * const token = await herald.createToken({ clientId: 'u1', capability: { 'chat:*': ['subscribe'] }, ttlSeconds: 3600 })
   */
  createToken(options: TokenOptions = {}): Promise<string> {
    return signToken(this.keyId, this.secret, options)
  }
}
