import { encodeCursor, type CursorPositions, type Message, type Position } from '@herald/protocol'
import type { App } from '../../apps/types.js'
import type { Engine } from '../../engine/engine.js'

/** A poll's answer: `{"cursor","messages","recovered"?}`. */
export interface PollReply {
  cursor: string
  messages: Message[]
  recovered?: Record<string, false>
}

/**
 * The state of one poll: each channel's position, what is collected to send, and which
 * channels fell out of their window. Positions only move forward, one seq at a time, so
 * a message is never collected twice whether it came from history or from the hub.
 */
export class PollBatch {
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

/** Positions one channel of a poll: from its cursor entry (recover), or its head (with rewind). */
export async function startChannel(engine: Engine, app: App, batch: PollBatch, channel: string, since: Position | undefined, rewind: number): Promise<void> {
  if (since) {
    const r = await engine.recover(app.id, channel, since, app.settings.historySize)
    if (!r.recovered) return batch.lost(channel, r.position)
    batch.positions[channel] = { epoch: since.epoch, seq: since.seq }
    for (const m of r.messages) batch.offer(m)
    return
  }
  const head = await engine.position(app.id, channel)
  const n = Math.min(rewind, app.settings.historySize)
  if (n <= 0 || head.seq === 0) {
    batch.positions[channel] = { ...head }
    return
  }
  // Read from a position, not "the latest": what is published meanwhile is left for the next poll.
  const from = Math.max(0, head.seq - n)
  batch.positions[channel] = { epoch: head.epoch, seq: from }
  const h = await engine.history(app.id, channel, { limit: n, after: from })
  if (h.epoch !== head.epoch || h.messages[0]?.seq !== from + 1) {
    batch.positions[channel] = { ...head }
    return
  }
  for (const m of h.messages) if (m.seq <= head.seq) batch.offer(m)
}
