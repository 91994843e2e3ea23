import { randomBytes } from 'node:crypto'
import { CloseCodes, isPresenceChannel, isValidChannel, type Message, type Position, type PresenceMember } from '@herald/protocol'
import type { App } from '../apps/types.js'
import { authorize } from '../auth/authorize.js'
import { presenceMember, keyIdOf, type Identity } from '../auth/identity.js'
import { msUntilExpiry } from '../auth/jwt.js'
import { badRequest, forbidden, HeraldError } from '../errors.js'
import type { PublishOutcome } from './broker.js'
import type { EncodedMessage, EncodedPresence } from './encoded.js'
import type { RawMessage } from './publisher.js'
import { currentTurn, TURN_ALLOWANCE_BYTES } from './send-bound.js'
import { ChannelSubscription, type SubscriptionOutput } from './subscription.js'
import type { EndError, SubscribedInfo, Wire, WireKind } from './wire.js'
import type { SessionHost } from './engine.js'

/** A new session id: `c_` + 12 random bytes, base64url. */
export const newSessionId = (): string => 'c_' + randomBytes(12).toString('base64url')

/** Most history messages one `history` call returns. */
export const MAX_HISTORY_LIMIT = 1000

/** What a wire hands the engine to open a session (see {@link Engine.open}). */
export interface SessionInit {
  app: App
  identity: Identity
  wire: Wire
  /** An id chosen by the wire (Pusher socket ids look like `123.456`); default {@link newSessionId}. */
  id?: string
  /**
   * Whether the token's `exp` ends the session (default: true for a token identity). False for a
   * protocol that authenticates per channel (Pusher): such a session never expires.
   */
  expires?: boolean
}

export interface SubscribeOptions {
  /** Resume after this position (the missed messages are replayed, or `recovered: false`). */
  since?: Position
  /** Start this many messages back. */
  rewind?: number
  /**
   * The wire authorized the subscription itself (Pusher's HMAC channel auth): the identity's
   * capability is not checked. The channel name is still validated.
   */
  authorized?: boolean
  /**
   * The member this subscription enters a `presence-*` channel as (Pusher `channel_data`).
   * Default: the token's `sub` and `info`. `null`: do not enter presence (a held poll).
   */
  member?: PresenceMember | null
  /** Told where the subscription starts, before its first (replayed) message is written. */
  subscribed?: (info: SubscribedInfo) => void
}

interface Entry {
  sub: ChannelSubscription
  /**
   * Told where the subscription starts; dropped once called, so a live subscription does not
   * keep the request that started it (its options, the wire's reply callback and frame).
   */
  started?: ((info: SubscribedInfo) => void) | undefined
  /** The member this session entered the channel as, once joined. */
  member?: PresenceMember
}

/**
 * One client of the node, whatever its protocol and wire: identity and capability, its
 * subscriptions (with resume), presence membership, token expiry and refresh, the
 * slow-consumer bound, metrics and hub registration. Made by {@link Engine.open}, which
 * admits it (the app's connection limit) and registers it in the hub.
 *
 * It talks to its transport only through a {@link Wire}; the wire calls the session's methods
 * for what its client asks, and {@link closed} once its transport is gone.
 *
 * @example
 * const session = engine.open({ app, identity, wire })
 * const info = await session.subscribe('chat', { since, subscribed: (i) => wire.sendSubscribed(i) })
 * // the socket closed
 * session.closed()
 */
export class ClientSession implements SubscriptionOutput {
  readonly id: string
  readonly appId: string
  /** The user a protocol signed in (Pusher `pusher:signin`); the hub can find sessions by it. */
  userId: string | undefined
  private readonly subs = new Map<string, Entry>()
  private expiryTimer: NodeJS.Timeout | undefined
  private ending = false
  private gone = false
  private endCode: number = CloseCodes.normal
  private endReason = ''
  /** Bytes written in the current turn of the event loop ({@link currentTurn}). */
  private turn = -1
  private turnBytes = 0
  /** `HERALD_SEND_BUFFER_BYTES`, and that plus the per-turn allowance. */
  private readonly bound: number
  private readonly turnBound: number

  constructor(
    private readonly host: SessionHost,
    init: SessionInit,
    /** The app as of the last request; a wire that re-reads it per frame sets it. */
    public app: App,
    private _identity: Identity,
    readonly wire: Wire,
    private readonly expires: boolean,
  ) {
    this.id = init.id ?? newSessionId()
    this.appId = init.app.id
    this.bound = host.config.sendBufferBytes
    this.turnBound = this.bound + TURN_ALLOWANCE_BYTES
    this.armExpiry()
  }

  get identity(): Identity {
    return this._identity
  }

  get kind(): WireKind {
    return this.wire.kind
  }

  /** The wire kind, as the hub and metrics label it. */
  get transport(): WireKind {
    return this.wire.kind
  }

  /** The key behind the session's credentials (undefined when anonymous): revoking it closes the session. */
  get keyId(): string | undefined {
    return keyIdOf(this._identity)
  }

  /** The token's `sub`. */
  get clientId(): string | undefined {
    return this._identity.kind === 'token' ? this._identity.clientId : undefined
  }

  /** True once the session is ending or gone: nothing more is written. */
  get ended(): boolean {
    return this.ending || this.gone
  }

  /** Channels of the session's live (or starting) subscriptions. */
  channels(): IterableIterator<string> {
    return this.subs.keys()
  }

  isSubscribed(channel: string): boolean {
    return this.subs.has(channel)
  }

  // ---- subscriptions -----------------------------------------------------------------

  /**
   * Subscribes to a channel: authorizes it (unless the wire did), joins the hub, replays
   * from `since` / `rewind`, then enters presence. Resolves once the subscription is live,
   * with where it started and how many messages were replayed. Throws a {@link HeraldError}
   * (and keeps nothing) when it cannot start.
   */
  async subscribe(channel: string, options: SubscribeOptions = {}): Promise<SubscribedInfo & { replayed: number }> {
    if (this.ended) throw new HeraldError('internal', 'the connection is closing')
    const app = this.app
    if (!options.authorized) authorize(app, this._identity, channel, 'subscribe')
    else if (!isValidChannel(channel)) throw badRequest('channel must be 1..164 characters of [A-Za-z0-9_-=@.;:/]')
    if (this.subs.has(channel)) throw badRequest(`already subscribed to ${channel}`)
    const max = this.host.config.maxSubscriptionsPerConnection
    if (this.subs.size >= max) throw new HeraldError('limit_exceeded', `at most ${max} subscriptions per connection`)
    let started: SubscribedInfo | undefined
    // The session itself is the output of its subscriptions (one object less per delivery).
    const sub = new ChannelSubscription(this.appId, channel, this, this.host.hub, this.host.broker, this.id)
    const entry: Entry = {
      sub,
      started: (info) => {
        started = info
        options.subscribed?.(info)
      },
    }
    this.subs.set(channel, entry)
    this.host.metrics.subscriptions.inc({ app: this.appId, transport: this.kind })
    try {
      const replayed = await sub.start({
        maxReplay: app.settings.historySize,
        ...(options.since ? { since: options.since } : {}),
        ...(options.rewind ? { rewind: options.rewind } : {}),
      })
      this.host.hub.countDelivered(this.appId, replayed)
      // The session ended while it started: nothing is sent any more, nothing to report.
      if (this.subs.get(channel) !== entry) return { channel, epoch: started?.epoch ?? '', seq: started?.seq ?? 0, replayed }
      this.host.events.emit('subscribed', this, channel)
      const member = options.member === undefined ? presenceMember(this._identity) : options.member
      if (isPresenceChannel(channel) && member) await this.join(channel, entry, member)
      return { ...started!, replayed }
    } catch (err) {
      await this.unsubscribe(channel, entry)
      throw err
    }
  }

  /** A subscription could not repair a gap from history ({@link SubscriptionOutput.repairFailed}). */
  repairFailed(channel: string, err: unknown): void {
    this.host.logger.warn({ err, app: this.appId, channel }, 'could not repair a gap from history')
  }

  private async join(channel: string, entry: Entry, member: PresenceMember): Promise<void> {
    entry.member = member
    await this.host.presence.add(this.appId, channel, this.id, member)
    // The session may have gone while we joined: leave no ghost member behind.
    if (this.subs.get(channel) !== entry) {
      await this.host.presence.remove(this.appId, channel, this.id)
      return
    }
    this.host.events.emit('joined', this, channel, member)
  }

  /** Drops a subscription (and its presence); nothing happens when there is none. */
  async unsubscribe(channel: string, only?: Entry): Promise<void> {
    const entry = this.subs.get(channel)
    if (!entry || (only && entry !== only)) return
    this.subs.delete(channel)
    entry.sub.stop()
    this.host.metrics.subscriptions.dec({ app: this.appId, transport: this.kind })
    this.host.events.emit('unsubscribed', this, channel)
    const member = entry.member
    if (!member) return
    try {
      await this.host.presence.remove(this.appId, channel, this.id)
    } catch (err) {
      this.host.logger.warn({ err, app: this.appId, channel }, 'presence leave failed')
    }
    this.host.events.emit('left', this, channel, member)
  }

  // ---- requests ----------------------------------------------------------------------

  /**
   * Publishes one message as this session's identity (capability checked, unless the wire
   * `authorized` it itself: Pusher client events). With `excludeSelf`, the message is not
   * delivered back to this session (on any node).
   */
  async publish(raw: RawMessage, options: { excludeSelf?: boolean; authorized?: boolean } = {}): Promise<PublishOutcome> {
    const input = this.host.validate(this.app, this._identity, raw, { authorized: options.authorized === true })
    if (options.excludeSelf) input.exclude = this.id
    const [outcome] = await this.host.publish(this.app, [input], this.kind)
    return outcome!
  }

  /** History of a channel the identity may read (`history` capability). */
  async history(channel: string, query: { limit?: number; after?: number }): Promise<{ epoch: string; messages: Message[] }> {
    authorize(this.app, this._identity, channel, 'history')
    const limit = Math.min(query.limit ?? this.app.settings.historySize, MAX_HISTORY_LIMIT)
    return this.host.history(this.appId, channel, query.after === undefined ? { limit } : { limit, after: query.after })
  }

  /** Presence members of a channel the identity may see. */
  async members(channel: string): Promise<PresenceMember[]> {
    authorize(this.app, this._identity, channel, 'members')
    return this.host.members(this.appId, channel)
  }

  /** Takes a refreshed identity (an `auth` frame): it must keep the session's `sub`; the expiry restarts. */
  refresh(next: Identity): void {
    const current = this.clientId
    const nextClient = next.kind === 'token' ? next.clientId : undefined
    if (current !== undefined && nextClient !== current) throw forbidden("a refreshed token must keep the connection's sub (clientId)")
    this._identity = next
    this.armExpiry()
  }

  // ---- output ------------------------------------------------------------------------

  /** (SubscriptionOutput, internal) A subscription starts: tells whoever subscribed it. */
  subscribed(info: SubscribedInfo): void {
    const entry = this.subs.get(info.channel)
    const started = entry?.started
    if (entry) entry.started = undefined
    started?.(info)
  }

  /** (SubscriptionOutput, internal) A message of a subscription, to the wire through the one bound. */
  message(m: EncodedMessage): void {
    this.account(this.wire.message(m.message.channel, m))
  }

  /** (SubscriptionOutput, internal) A presence event of a subscription, to the wire through the one bound. */
  presence(p: EncodedPresence): void {
    this.account(this.wire.presence(p.event.channel, p))
  }

  /**
   * The one slow-consumer bound of every wire: a client is ended (`CloseCodes.rateLimited`) when what earlier turns
   * wrote is still unsent past `HERALD_SEND_BUFFER_BYTES`, or one turn alone wrote more than
   * any legal burst. A burst the client reads fine (one batch can be larger than the bound) is
   * not slow.
   */
  account(bytes: number): void {
    // `ending` is also set once the session is gone.
    if (bytes === 0 || this.ending) return
    const turn = currentTurn()
    let n = bytes
    if (turn === this.turn) n += this.turnBytes
    else this.turn = turn
    this.turnBytes = n
    if (this.wire.bufferedBytes() - n > this.bound || n > this.turnBound) this.slow()
  }

  private slow(): void {
    this.host.metrics.drops.inc({ app: this.appId, transport: this.kind })
    this.close(CloseCodes.rateLimited, 'too slow to keep up')
  }

  // ---- lifecycle ---------------------------------------------------------------------

  private armExpiry(): void {
    clearTimeout(this.expiryTimer)
    const identity = this._identity
    if (!this.expires || identity.kind !== 'token') return
    this.expiryTimer = setTimeout(
      () => this.close(CloseCodes.unauthorized, 'token expired', { code: 'token_expired', message: 'token expired; reconnect with a fresh token' }),
      msUntilExpiry(identity.exp),
    )
    this.expiryTimer.unref()
  }

  /**
   * Ends the session: the wire closes its transport with `code` (and reports `error` first),
   * then calls {@link closed}. Calling it again does nothing.
   */
  close(code: number, reason: string, error?: EndError): void {
    if (this.ended) return
    this.ending = true
    this.endCode = code
    this.endReason = reason
    clearTimeout(this.expiryTimer)
    this.wire.end(code, reason, error)
  }

  /**
   * The wire's transport is gone (whoever closed it): leaves the hub, drops every subscription
   * and presence, and tells the listeners. Calling it again does nothing.
   */
  closed(code?: number, reason?: string): void {
    if (this.gone) return
    this.gone = true
    this.ending = true
    clearTimeout(this.expiryTimer)
    for (const channel of [...this.subs.keys()]) void this.unsubscribe(channel)
    this.host.sessionClosed(this, code ?? this.endCode, reason ?? this.endReason)
  }
}
