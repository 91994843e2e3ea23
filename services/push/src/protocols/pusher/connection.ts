import { CloseCodes, isPresenceChannel, PusherCloseCodes, PusherErrorCodes, pusherCloseFor, type PresenceMember } from '@herald/protocol'
import type { CachedKey } from '../../apps/registry.js'
import type { App } from '../../apps/types.js'
import type { Identity } from '../../auth/identity.js'
import type { NodeContext } from '../../context.js'
import { EncodedMessage, type EncodedPresence } from '../../engine/encoded.js'
import type { MessageFormat } from '../../engine/format.js'
import type { ClientSession } from '../../engine/session.js'
import type { ClientEventReport } from '../../engine/session-events.js'
import type { EndError, Wire } from '../../engine/wire.js'
import { toHeraldError } from '../../errors.js'
import { compileCapability } from '../../auth/capability.js'
import { decideSubscribe } from './channel-auth.js'
import { allowsClientEvents, heraldChannelOf, isValidPusherChannel, isValidPusherUserId, pusherChannelInfo } from './channels.js'
import { heraldData } from './data.js'
import { parsePusherFrame, PusherFrameError, pusherError, pusherEvent, subscriptionError, type PusherClientFrame } from './frames.js'
import { parseSocketAuth, verifyUserSignature } from './signature.js'

/** Frames a socket may have waiting before it counts as a flood. */
const MAX_PENDING_FRAMES = 256

/** How a Pusher transport (WebSocket, xhr session) writes: one format, one byte sink. */
export interface PusherOutput<T> {
  readonly kind: string
  /** The format messages are written in (shared bytes per message). */
  readonly format: MessageFormat<T>
  /** A control event text in the transport's framing. */
  frame(text: string): T
  /** Queues bytes; returns how many. */
  write(chunk: T): number
  bufferedBytes(): number
  /** Ends the transport with a Pusher close code (after the `pusher:error` was written); `discard` drops what is queued (a slow consumer). */
  close(code: number, reason: string, discard: boolean): void
}

type Frame<K extends PusherClientFrame['kind']> = Extract<PusherClientFrame, { kind: K }>

/**
 * One Pusher client (protocol 7) on a {@link ClientSession}, whatever its transport: it parses
 * frames, checks channel auth and user sign-in signatures, and turns the session's messages
 * into Pusher events. It is the session's {@link Wire}; the transport is a {@link PusherOutput}.
 */
export class PusherConnection<T> implements Wire {
  session!: ClientSession
  /** Set by any frame from the client; the WebSocket's activity check reads and clears it. */
  active = true
  /** The activity check sent a `pusher:ping` that is not answered yet. */
  pinged = false
  private readonly identity: Identity
  /** Channels (engine names) whose subscription_succeeded is not sent yet: their events wait. */
  private readonly held = new Map<string, T[]>()
  /** The presence member this socket is on each presence channel (engine names). */
  private readonly members = new Map<string, PresenceMember>()
  private chain: Promise<void> = Promise.resolve()
  private pending = 0
  private ownEnd: number | undefined

  constructor(
    private readonly ctx: NodeContext,
    private readonly out: PusherOutput<T>,
    app: App,
    readonly socketId: string,
    private readonly keyId: string,
    capability: CachedKey['capability'],
  ) {
    this.identity = { kind: 'basic', appId: app.id, keyId, capability }
  }

  get kind(): string {
    return this.out.kind
  }

  /** Opens the session; throws `limit_exceeded` when the app is full. Sends connection_established. */
  open(app: App, activityTimeoutSeconds: number): ClientSession {
    this.session = this.ctx.engine.open({ app, identity: this.identity, wire: this, id: this.socketId, expires: false })
    this.send(pusherEvent('pusher:connection_established', undefined, { socket_id: this.socketId, activity_timeout: activityTimeoutSeconds }))
    return this.session
  }

  // ---- Wire ---------------------------------------------------------------------------

  bufferedBytes(): number {
    return this.out.bufferedBytes()
  }

  message(channel: string, m: EncodedMessage): number {
    const chunk = m.as(this.out.format)
    const held = this.held.get(channel)
    if (held) {
      held.push(chunk)
      return 0
    }
    return this.out.write(chunk)
  }

  presence(channel: string, p: EncodedPresence): number {
    // Pusher never tells a socket about its own user (it is in the member list it got).
    if (this.members.get(channel)?.clientId === p.event.member.clientId) return 0
    const chunk = p.as(this.out.format)
    const held = this.held.get(channel)
    if (held) {
      held.push(chunk)
      return 0
    }
    return this.out.write(chunk)
  }

  end(code: number, reason: string, _error?: EndError): void {
    // The engine ends sessions with Herald's codes (revoked key, deleted app, slow, shutdown);
    // this connection's own ends already carry a Pusher code.
    const pusherCode = this.ownEnd ?? pusherCloseFor(code)
    const slow = code === CloseCodes.rateLimited && this.ownEnd === undefined
    if (!slow) this.send(pusherError(pusherCode, reason))
    this.out.close(pusherCode, reason, slow)
  }

  /** Ends with a Pusher close code (4201 no pong, 4009 refused sign-in, 4001 key revoked, …). */
  endPusher(code: number, reason: string): void {
    if (this.session.ended) return
    this.ownEnd = code
    this.session.close(code, reason)
  }

  /** Writes a control event (every byte a wire writes on its own counts against the slow-consumer bound). */
  sendText(text: string): number {
    return this.write(this.out.frame(text))
  }

  private send(text: string): number {
    return this.sendText(text)
  }

  private write(chunk: T): number {
    const n = this.out.write(chunk)
    this.session?.account(n)
    return n
  }

  // ---- input --------------------------------------------------------------------------

  /** Queues one text frame; frames are handled one after another, in order. */
  receive(text: string): void {
    this.active = true
    if (this.session.ended) return
    if (Buffer.byteLength(text) > this.ctx.config.maxFrameBytes) {
      this.send(pusherError(PusherErrorCodes.badFrame, `frame larger than ${this.ctx.config.maxFrameBytes} bytes`))
      return
    }
    if (++this.pending > MAX_PENDING_FRAMES) {
      this.endPusher(PusherCloseCodes.overCapacity, 'too many frames in flight')
      return
    }
    this.chain = this.chain.then(async () => {
      try {
        if (!this.session.ended) await this.handle(text)
      } catch (err) {
        this.ctx.logger.error({ err, app: this.session.appId }, 'pusher frame failed')
        this.send(pusherError(PusherErrorCodes.badFrame, 'internal error'))
      } finally {
        this.pending--
      }
    })
  }

  private async handle(text: string): Promise<void> {
    let frame: PusherClientFrame
    try {
      frame = parsePusherFrame(text)
    } catch (err) {
      if (!(err instanceof PusherFrameError)) throw err
      const code =
        err.message.startsWith('client events') || err.message.startsWith('a client event') ? PusherErrorCodes.clientEventRejected : PusherErrorCodes.badFrame
      this.send(pusherError(code, err.message, err.channel))
      return
    }
    if (frame.kind === 'ping') {
      this.send(pusherEvent('pusher:pong', undefined, {}))
      return
    }
    if (frame.kind === 'pong') return
    const app = await this.ctx.engine.app(this.session.appId)
    const key = app ? await this.ctx.engine.key(app.id, this.keyId) : null
    if (!app || !key) {
      this.endPusher(app ? PusherCloseCodes.appNotFound : PusherCloseCodes.appDisabled, app ? 'key revoked' : 'app deleted')
      return
    }
    this.session.app = app
    switch (frame.kind) {
      case 'subscribe':
        return this.subscribe(app, key.key.secret, frame)
      case 'unsubscribe':
        return this.unsubscribe(frame.channel)
      case 'signin':
        return this.signin(key.key.secret, frame)
      case 'client':
        return this.clientEvent(app, frame)
    }
  }

  // ---- subscriptions ------------------------------------------------------------------

  private async subscribe(app: App, secret: string, frame: Frame<'subscribe'>): Promise<void> {
    const name = frame.channel
    const refuse = (status: number, error: string) => void this.send(subscriptionError(name, status, error))
    const channelOf = heraldChannelOf(name)
    if (this.session.isSubscribed(channelOf)) {
      // Subscribing again (pusher-js does after a lost subscription_succeeded): the same answer again.
      if (!this.held.has(channelOf)) this.send(this.succeeded(name, channelOf, this.members.has(channelOf) ? await this.presenceData(channelOf) : undefined))
      return
    }
    const capability = this.identity.kind === 'basic' ? this.identity.capability : compileCapability({})
    const decision = decideSubscribe({
      ...frame,
      socketId: this.socketId,
      keyId: this.keyId,
      secret,
      capability,
      anonymousSubscribe: app.settings.anonymousSubscribe,
      userId: this.session.userId,
    })
    if (!decision.ok) return refuse(decision.status, decision.error)
    const { channel, info, member } = decision

    this.held.set(channel, [])
    if (member) this.members.set(channel, member)
    let started: { seq: number }
    try {
      started = await this.session.subscribe(channel, { authorized: true, member })
    } catch (err) {
      this.held.delete(channel)
      this.members.delete(channel)
      const e = toHeraldError(err)
      if (e.code === 'internal' && this.session.ended) return
      return refuse(e.status === 500 ? 500 : e.status, e.message)
    }
    const presenceData = member ? await this.presenceData(channel) : undefined
    this.send(this.succeeded(name, channel, presenceData))
    if (info.cache) await this.sendCached(name, channel, started.seq)
    const held = this.held.get(channel) ?? []
    this.held.delete(channel)
    for (const chunk of held) this.write(chunk)
  }

  private succeeded(name: string, channel: string, presence: unknown): string {
    if (presence === undefined && isPresenceChannel(channel))
      return pusherEvent('pusher_internal:subscription_succeeded', name, { presence: { ids: [], hash: {}, count: 0 } })
    return pusherEvent('pusher_internal:subscription_succeeded', name, presence === undefined ? {} : { presence })
  }

  private async presenceData(channel: string): Promise<{ ids: string[]; hash: Record<string, unknown>; count: number }> {
    const list = await this.ctx.engine.members(this.session.appId, channel)
    const hash: Record<string, unknown> = {}
    for (const m of list) hash[m.clientId] = m.info ?? null
    // The list is read after this socket joined; a lagging replica must still show the socket its own user.
    const own = this.members.get(channel)
    if (own && !(own.clientId in hash)) hash[own.clientId] = own.info ?? null
    const ids = Object.keys(hash)
    return { ids, hash, count: ids.length }
  }

  /** A cache channel's last event before the subscription started, or `pusher:cache_miss`. */
  private async sendCached(name: string, channel: string, seq: number): Promise<void> {
    const last = seq > 0 ? (await this.ctx.engine.history(this.session.appId, channel, { limit: 1 })).messages[0] : undefined
    if (last && last.seq <= seq) {
      this.write(EncodedMessage.of(last).as(this.out.format))
      return
    }
    this.send(pusherEvent('pusher:cache_miss', name))
    this.ctx.engine.events.emit('cacheMiss', this.session.appId, name)
  }

  private async unsubscribe(name: string): Promise<void> {
    const channel = heraldChannelOf(name)
    this.held.delete(channel)
    this.members.delete(channel)
    await this.session.unsubscribe(channel)
  }

  // ---- user sign-in and client events -------------------------------------------------

  private async signin(secret: string, frame: Frame<'signin'>): Promise<void> {
    const auth = parseSocketAuth(frame.auth)
    let user: unknown
    try {
      user = JSON.parse(frame.userData)
    } catch {}
    const id = typeof user === 'object' && user !== null ? (user as { id?: unknown }).id : undefined
    let problem: string | undefined
    if (!auth || auth.keyId !== this.keyId || !verifyUserSignature(secret, auth.signature, this.socketId, frame.userData)) problem = 'invalid sign-in signature'
    else if (typeof id !== 'string' || !isValidPusherUserId(id))
      problem = 'user_data must be a JSON object with an "id" string of 1..148 characters of [A-Za-z0-9_-=@,.;:/]'
    if (problem) {
      // Pusher closes a socket whose sign-in is refused (4009): pusher-js does not retry it.
      this.endPusher(PusherCloseCodes.unauthorized, problem)
      return
    }
    this.session.userId = id as string
    this.send(pusherEvent('pusher:signin_success', undefined, { user_data: frame.userData }))
  }

  private async clientEvent(app: App, frame: Frame<'client'>): Promise<void> {
    const reject = (message: string) => void this.send(pusherError(PusherErrorCodes.clientEventRejected, message, frame.channel))
    if (!app.settings.clientEvents) return reject('client events are not enabled for this app (setting clientEvents)')
    const info = isValidPusherChannel(frame.channel) ? pusherChannelInfo(frame.channel) : undefined
    if (!info || !allowsClientEvents(info.kind)) {
      return reject(
        info?.kind === 'private-encrypted'
          ? 'client events are not allowed on encrypted channels'
          : 'client events are allowed on private- and presence- channels only',
      )
    }
    const channel = heraldChannelOf(frame.channel)
    if (!this.session.isSubscribed(channel) || this.held.has(channel)) return reject(`not subscribed to ${frame.channel}`)
    const member = this.members.get(channel)
    const data = typeof frame.data === 'string' ? heraldData(frame.data) : frame.data
    try {
      const input = this.ctx.engine.validate(app, this.identity, { channel, name: frame.event, data })
      if (member) input.clientId = member.clientId
      input.exclude = this.session.id
      await this.ctx.engine.publish(app, [input], this.kind)
    } catch (err) {
      const e = toHeraldError(err)
      if (e.code === 'internal') this.ctx.logger.error({ err, app: app.id }, 'client event failed')
      return reject(e.code === 'rate_limited' ? `over this app's rate of ${app.settings.publishRatePerSecond} messages per second` : e.message)
    }
    const report: ClientEventReport = { appId: app.id, channel: frame.channel, event: frame.event, data: frame.data, socketId: this.socketId }
    if (member) report.userId = member.clientId
    this.ctx.engine.events.emit('clientEvent', report)
  }
}
