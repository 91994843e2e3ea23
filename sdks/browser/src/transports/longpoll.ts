import { decodeCursor, type PollReply } from '@herald/protocol'
import { errorFrom } from '../http.js'
import { startQuery } from './sse.js'
import { endpoint, type ChannelStart, type Transport, type TransportContext } from './transport.js'

/** Seconds the server may hold a long-poll request. */
const WAIT = 25

/**
 * The long-poll transport: `GET …/poll` in a loop. The first request of a connection,
 * and any request with a channel not yet positioned, uses `wait=0` so the server replies
 * at once; the others wait up to 25 s for a message. Positions come from the client's
 * subscriptions, so a reopened loop never skips or repeats. Presence events are not
 * carried by long-poll.
 *
 * @example
 * const t = longpollTransport(context); t.open()
 */
export function longpollTransport(ctx: TransportContext): Transport {
  let opened = false
  let closed = false
  let token = ctx.token
  let loopId = 0
  let abort: AbortController | undefined
  const confirmed = new Set<string>()
  const h = ctx.handlers

  const deliver = (reply: PollReply, starts: ChannelStart[], id: number) => {
    const next = decodeCursor(reply.cursor) ?? {}
    const lost = reply.recovered ?? {}
    for (const s of starts) {
      const p = next[s.channel]
      if (confirmed.has(s.channel) && lost[s.channel] !== false) continue
      confirmed.add(s.channel) // even without a position: never spin on wait=0
      if (!p) continue
      let seq = p.seq
      if (lost[s.channel] === false) {
        const first = reply.messages.find((m) => m.channel === s.channel && m.epoch === p.epoch)
        if (first) seq = first.seq - 1
      }
      h.subscribed({ channel: s.channel, epoch: p.epoch, seq, ...(s.since ? { recovered: lost[s.channel] !== false } : {}) })
      if (closed || id !== loopId) return
    }
    for (const m of reply.messages) {
      if (closed || id !== loopId) return
      h.message(m)
    }
  }

  const loop = async (id: number) => {
    while (!closed && id === loopId) {
      const starts = ctx.channels()
      if (starts.length === 0) {
        if (!opened) {
          opened = true
          h.open({})
        }
        return
      }
      const q = startQuery(starts)
      const fresh = !opened || starts.some((s) => !confirmed.has(s.channel))
      const wait = fresh ? 0 : WAIT
      const url = endpoint(ctx, 'poll', { channels: q.channels, cursor: q.cursor, wait, token, rewind: q.rewind })
      const ac = (abort = new AbortController())
      const timer = setTimeout(() => ac.abort(), opened ? (wait + 15) * 1000 : ctx.connectTimeout)
      let reply: PollReply
      try {
        const res = await ctx.env.fetch(url, { signal: ac.signal })
        if (!res.ok) {
          const err = await errorFrom(res)
          if (closed || id !== loopId) return
          return fail({ opened, code: err.code as never, status: res.status, message: err.message })
        }
        reply = (await res.json()) as PollReply
      } catch {
        if (closed || id !== loopId) return
        return fail({ opened, message: ac.signal.aborted ? 'poll timeout' : 'poll failed' })
      } finally {
        clearTimeout(timer)
      }
      if (closed || id !== loopId) return
      if (!opened) {
        opened = true
        h.open({})
        if (closed || id !== loopId) return
      }
      deliver(reply, starts, id)
    }
  }

  const fail = (info: Parameters<typeof h.close>[0]) => {
    closed = true
    h.close(info)
  }

  const restart = () => {
    if (closed) return
    abort?.abort()
    void loop(++loopId)
  }

  return {
    name: 'longpoll',
    open: restart,
    subscribe: restart,
    unsubscribe(channel) {
      confirmed.delete(channel)
      restart()
    },
    setToken(t) {
      token = t
    },
    close() {
      closed = true
      loopId++
      abort?.abort()
    },
  }
}
