import { CloseCodes, errorCodeForClose, type CursorPositions } from '@herald/protocol'
import type { App } from '../../apps/types.js'
import type { Identity } from '../../auth/identity.js'
import type { EncodedMessage } from '../../engine/encoded.js'
import type { Engine } from '../../engine/engine.js'
import type { ClientSession } from '../../engine/session.js'
import type { Wire } from '../../engine/wire.js'
import { HeraldError, toHeraldError } from '../../errors.js'
import { PollBatch, startChannel, type PollReply } from './poll-batch.js'

export type { PollReply } from './poll-batch.js'

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
  /** How long a woken poll waits for more messages before answering (ms). */
  batchMs: number
}

/** A poll outcome: a reply, or an error to answer with (the hub closed a held poll). */
export type PollOutcome = { reply: PollReply; close?: boolean } | { error: HeraldError }

/**
 * Answers a long-poll or poll.
 *
 * Without a cursor it answers at once with the channels' heads (and with `rewind=N` the
 * last N messages of each). With one, it answers at once with the messages past it, or
 * `recovered: false` (from history, per channel in order, at most `historySize` per channel:
 * the next poll continues from the returned cursor); when there are none, it holds the request
 * as a session (admitted like any other) until a message arrives (plus a few ms to batch) or
 * `wait` seconds pass.
 */
export async function answerPoll(engine: Engine, request: PollRequest): Promise<PollOutcome> {
  const { app, channels, cursor } = request
  const batch = new PollBatch(channels, app.settings.historySize)
  await Promise.all(channels.map((channel) => startChannel(engine, app, batch, channel, cursor?.[channel], cursor ? 0 : request.rewind)))
  if (!cursor || batch.hasNews() || request.wait <= 0 || request.signal.aborted) {
    engine.countDelivered(app.id, batch.messages.length)
    return { reply: batch.reply() }
  }
  const wire = new PollWire(engine, request, batch)
  return wire.run(engine.open({ app, identity: request.identity, wire }))
}

/**
 * The wire of a held poll: its session subscribes each channel from the batch's position (so
 * resume, gap repair and `recovered: false` are the session's) without entering presence, and
 * every message goes into the batch; the answer is the HTTP response.
 */
class PollWire implements Wire {
  readonly kind = 'longpoll'
  private session!: ClientSession
  private finish!: (outcome: PollOutcome) => void
  private done = false
  private timer: NodeJS.Timeout | undefined
  private batchTimer: NodeJS.Timeout | undefined
  /** Replayed messages the session already counted as delivered. */
  private replayed = 0

  constructor(
    private readonly engine: Engine,
    private readonly request: PollRequest,
    private readonly batch: PollBatch,
  ) {}

  async run(session: ClientSession): Promise<PollOutcome> {
    this.session = session
    const outcome = new Promise<PollOutcome>((resolve) => (this.finish = resolve))
    const { request, batch } = this
    const answer = () => this.settle({ reply: batch.reply() })
    request.signal.addEventListener('abort', answer, { once: true })
    this.timer = setTimeout(answer, request.wait * 1000)
    try {
      for (const channel of batch.channels) {
        const started = await session.subscribe(channel, {
          since: { ...batch.positions[channel]! },
          member: null,
          subscribed: (info) => {
            // More than a window was published meanwhile: answer at once from the current position.
            if (info.recovered === false) {
              batch.lost(channel, info)
              answer()
            }
          },
        })
        this.replayed += started.replayed
        if (this.done) break
      }
    } catch (err) {
      this.settle({ error: toHeraldError(err) })
    }
    const result = await outcome
    request.signal.removeEventListener('abort', answer)
    return result
  }

  bufferedBytes(): number {
    return 0
  }

  message(_channel: string, m: EncodedMessage): number {
    if (!this.done && this.batch.offer(m.message)) this.batchTimer ??= setTimeout(() => this.settle({ reply: this.batch.reply() }), this.request.batchMs)
    return 0
  }

  presence(): number {
    return 0
  }

  /** Shutdown answers with what there is; revocation and deletion with an error. */
  end(code: number, reason: string): void {
    if (code === CloseCodes.goingAway) this.settle({ reply: this.batch.reply(), close: true })
    else this.settle({ error: new HeraldError(errorCodeForClose(code), reason) })
  }

  private settle(outcome: PollOutcome): void {
    if (this.done) return
    this.done = true
    clearTimeout(this.timer)
    clearTimeout(this.batchTimer)
    if ('reply' in outcome) this.engine.countDelivered(this.session.appId, outcome.reply.messages.length - this.replayed)
    this.session.closed()
    this.finish(outcome)
  }
}
