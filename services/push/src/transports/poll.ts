import { CloseCodes, encodeCursor, errorCodeForClose, type CursorPositions, type Message, type Position } from '@herald/protocol'
import type { App } from '../apps/types.js'
import { keyIdOf, type Identity } from '../auth/identity.js'
import type { NodeContext } from '../context.js'
import type { EncodedMessage } from '../engine/encoded.js'
import type { Sink } from '../engine/hub.js'
import { HeraldError } from '../errors.js'
import { connectionLimit, hasRoom } from './stream-request.js'
import { newConnectionId, type Connection } from './transport.js'

/** A poll's answer: `{"cursor","messages","recovered"?}`. */
export interface PollReply {
  cursor: string
  messages: Message[]
  recovered?: Record<string, false>
}

export interface PollRequest {
  app: App
  identity: Identity
  channels: string[]
  /** The decoded `cursor` parameter; undefined on a first poll. */
  cursor: CursorPositions | undefined
  /** Seconds to hold the request when nothing is new (0: answer at once). */
  wait: number
  rewind: number
  /** Aborted when the client goes away. */
  signal: AbortSignal
}

export interface PollHooks {
  /** Called with a held poll once it is registered, and again (with null) when it is done. */
  held(poll: HeldPoll, active: boolean): void
  /** How long a woken poll waits for more messages before answering (ms). */
  batchMs: number
}

/** A poll outcome: a reply, or an error to answer with (the hub closed a held poll). */
export type PollOutcome = { reply: PollReply; close?: boolean } | { error: HeraldError }

/**
 * The state of one poll: each channel's position, what is collected to send, and which
 * channels fell out of their window. Positions only move forward, one seq at a time, so
 * a message is never collected twice whether it came from history or from the hub.
 */
class PollBatch {
  readonly positions: CursorPositions = {}
  readonly messages: Message[] = []
  readonly recovered: Record<string, false> = {}
  private readonly counts = new Map<string, number>()

  constructor(
    readonly channels: readonly string[],
    private readonly cap: number,
  ) {}

  /** Takes a message when it is the next one past the channel's position (or opens a new epoch). */
  offer(m: Message): boolean {
    const position = this.positions[m.channel]
    if (!position) return false
    const count = this.counts.get(m.channel) ?? 0
    if (count >= this.cap) return false
    if (m.epoch === position.epoch) {
      if (m.seq !== position.seq + 1) return false
    } else {
      // The channel's history was lost and it started over: the client's position is stale.
      this.recovered[m.channel] = false
    }
    position.epoch = m.epoch
    position.seq = m.seq
    this.messages.push(m)
    this.counts.set(m.channel, count + 1)
    return true
  }

  /** Messages to send, or a channel to report as not recovered: answer now. */
  hasNews(): boolean {
    return this.messages.length > 0 || Object.keys(this.recovered).length > 0
  }

  /** The channel's history was lost or passed the window: report it, from its current position. */
  lost(channel: string, position: Position): void {
    this.positions[channel] = { ...position }
    this.recovered[channel] = false
  }

  /** Whether the channel already has as many messages as one reply carries. */
  full(channel: string): boolean {
    return (this.counts.get(channel) ?? 0) >= this.cap
  }

  reply(): PollReply {
    const reply: PollReply = { cursor: encodeCursor(this.positions), messages: this.messages }
    if (Object.keys(this.recovered).length > 0) reply.recovered = this.recovered
    return reply
  }
}

/**
 * Answers a long-poll or poll.
 *
 * Without a cursor it answers at once with the channels' heads (and with `rewind=N` the
 * last N messages of each). With one, it answers at once with the messages past it, or `recovered: false` (from
 * history, per channel in order, at most `historySize` per channel: the next poll continues
 * from the returned cursor); when there are none, it holds the request as a connection of
 * the hub until a message arrives (plus a few ms to batch) or `wait` seconds pass.
 *
 * @example
 * const outcome = await answerPoll(ctx, { app, identity, channels, cursor, wait: 25, rewind: 0, signal }, hooks)
 */
export async function answerPoll(ctx: NodeContext, request: PollRequest, hooks: PollHooks): Promise<PollOutcome> {
  const { app, channels, cursor } = request
  const maxReplay = app.settings.historySize
  const batch = new PollBatch(channels, maxReplay)
  await Promise.all(channels.map((channel) => start(ctx, app, batch, channel, cursor?.[channel], cursor ? 0 : request.rewind)))
  if (!cursor || batch.hasNews() || request.wait <= 0 || request.signal.aborted) {
    ctx.hub.countDelivered(app.id, batch.messages.length)
    return { reply: batch.reply() }
  }
  if (!hasRoom(ctx, app)) {
    ctx.metrics.rejected.inc({ app: app.id, transport: 'longpoll', code: 'limit_exceeded' })
    throw connectionLimit(app)
  }
  const held = new HeldPoll(ctx, request, batch, hooks)
  return held.run()
}

/** Positions one channel of a poll: from its cursor entry (recover), or its head (with rewind). */
async function start(ctx: NodeContext, app: App, batch: PollBatch, channel: string, since: Position | undefined, rewind: number): Promise<void> {
  if (since) {
    const r = await ctx.broker.recover(app.id, channel, since, app.settings.historySize)
    if (!r.recovered) return batch.lost(channel, r.position)
    batch.positions[channel] = { epoch: since.epoch, seq: since.seq }
    for (const m of r.messages) batch.offer(m)
    return
  }
  const head = await ctx.broker.position(app.id, channel)
  const n = Math.min(rewind, app.settings.historySize)
  if (n <= 0 || head.seq === 0) {
    batch.positions[channel] = { ...head }
    return
  }
  // Read from a position, not "the latest": what is published meanwhile is left for the next poll.
  const from = Math.max(0, head.seq - n)
  batch.positions[channel] = { epoch: head.epoch, seq: from }
  const h = await ctx.broker.history(app.id, channel, { limit: n, after: from })
  if (h.epoch !== head.epoch || h.messages[0]?.seq !== from + 1) {
    batch.positions[channel] = { ...head }
    return
  }
  for (const m of h.messages) if (m.seq <= head.seq) batch.offer(m)
}

/**
 * A poll held open: a connection of the hub (it counts toward `maxConnections` and is closed
 * on revocation, app deletion and shutdown) with one sink per channel.
 */
export class HeldPoll implements Connection {
  readonly id = newConnectionId()
  readonly transport = 'longpoll' as const
  private readonly sinks = new Map<string, Sink>()
  private readonly catchingUp = new Set<string>()
  private finish!: (outcome: PollOutcome) => void
  private done = false
  private timer: NodeJS.Timeout | undefined
  private batchTimer: NodeJS.Timeout | undefined

  constructor(
    private readonly ctx: NodeContext,
    private readonly request: PollRequest,
    private readonly batch: PollBatch,
    private readonly hooks: PollHooks,
  ) {}

  get appId(): string {
    return this.request.app.id
  }

  get keyId(): string | undefined {
    return keyIdOf(this.request.identity)
  }

  async run(): Promise<PollOutcome> {
    const outcome = new Promise<PollOutcome>((resolve) => (this.finish = resolve))
    const { ctx, request } = this
    const appId = this.appId
    this.hooks.held(this, true)
    const onAbort = () => this.settle({ reply: this.batch.reply() })
    request.signal.addEventListener('abort', onAbort, { once: true })
    this.timer = setTimeout(() => this.settle({ reply: this.batch.reply() }), request.wait * 1000)
    try {
      for (const channel of this.batch.channels) {
        const sink: Sink = {
          message: (m: EncodedMessage) => this.onMessage(m.message),
          presence: () => {},
        }
        this.sinks.set(channel, sink)
        await ctx.hub.subscribe(appId, channel, sink)
        if (this.done) break
      }
      // A message published between the first read and the hub subscription: read it now.
      if (!this.done) {
        for (const channel of this.batch.channels) {
          const position = this.batch.positions[channel]!
          const head = await ctx.broker.position(appId, channel)
          if (head.epoch === position.epoch && head.seq <= position.seq) continue
          await this.readPast(channel)
          if (this.done) break
        }
      }
    } catch (err) {
      this.settle({ error: err instanceof HeraldError ? err : new HeraldError('internal', 'internal error') })
    }
    const result = await outcome
    request.signal.removeEventListener('abort', onAbort)
    return result
  }

  /** A message from the hub or from history. */
  private onMessage(m: Message): void {
    if (this.done) return
    if (!this.batch.offer(m)) {
      const position = this.batch.positions[m.channel]
      // Past the position with a gap (messages skipped between nodes): read them from history.
      if (position && m.epoch === position.epoch && m.seq > position.seq + 1 && !this.batch.full(m.channel) && !this.catchingUp.has(m.channel)) {
        void this.catchUp(m.channel)
      }
      return
    }
    this.batchTimer ??= setTimeout(() => this.settle({ reply: this.batch.reply() }), this.hooks.batchMs)
  }

  /**
   * Reads what is past the channel's position from history. When more than a window was
   * published meanwhile, answers at once with `recovered: false` and the current position.
   */
  private async readPast(channel: string): Promise<void> {
    const position = this.batch.positions[channel]!
    const r = await this.ctx.broker.recover(this.appId, channel, { ...position }, this.request.app.settings.historySize)
    if (this.done) return
    if (!r.recovered) {
      this.batch.lost(channel, r.position)
      this.settle({ reply: this.batch.reply() })
      return
    }
    for (const m of r.messages) this.onMessage(m)
  }

  /** Fills a gap the hub left (messages skipped between nodes) from history. */
  private async catchUp(channel: string): Promise<void> {
    this.catchingUp.add(channel)
    try {
      await this.readPast(channel)
    } catch (err) {
      this.ctx.logger.warn({ err, app: this.appId, channel }, 'poll catch-up failed')
    } finally {
      this.catchingUp.delete(channel)
    }
  }

  /** The hub's close: shutdown answers with what there is; revocation and deletion with an error. */
  close(code: number, reason: string): void {
    if (code === CloseCodes.goingAway) this.settle({ reply: this.batch.reply(), close: true })
    else this.settle({ error: new HeraldError(errorCodeForClose(code), reason) })
  }

  private settle(outcome: PollOutcome): void {
    if (this.done) return
    this.done = true
    clearTimeout(this.timer)
    clearTimeout(this.batchTimer)
    for (const [channel, sink] of this.sinks) this.ctx.hub.unsubscribe(this.appId, channel, sink)
    this.sinks.clear()
    if ('reply' in outcome) this.ctx.hub.countDelivered(this.appId, outcome.reply.messages.length)
    this.hooks.held(this, false)
    this.finish(outcome)
  }
}
