import { encodeCursor, type CursorPositions, type ErrorCode, type SseSubscribed } from '@herald/protocol'
import { errorFrom } from '../http.js'
import { endpoint, type ChannelStart, type Transport, type TransportClose, type TransportContext } from './transport.js'

/** The positions to resume from (as a cursor) and the `rewind` for channels that have none. */
export function startQuery(starts: ChannelStart[]): { channels: string; cursor: string | undefined; rewind: number | undefined } {
  const positions: CursorPositions = {}
  let rewind = 0
  for (const s of starts) {
    if (s.since) positions[s.channel] = s.since
    else rewind = Math.max(rewind, s.rewind ?? 0)
  }
  return {
    channels: starts.map((s) => s.channel).join(','),
    cursor: Object.keys(positions).length ? encodeCursor(positions) : undefined,
    rewind: rewind || undefined,
  }
}

/**
 * The Server-Sent Events transport, on the browser's EventSource. The SDK, not
 * EventSource, decides when to reconnect: any error closes the stream and reports it.
 * Adding or removing a channel, or a new token, reopens the stream from the current
 * positions (the cursor of the existing channels); that is invisible to the app.
 * EventSource hides HTTP statuses, so a stream that fails before opening is probed once
 * with `fetch` to tell an auth error (401/403) from a network one.
 *
 * @example
 * const t = sseTransport(context); t.open()
 */
export function sseTransport(ctx: TransportContext): Transport {
  let es: EventSource | null = null
  let opened = false
  let closed = false
  let queued = false
  let token = ctx.token
  let timer: ReturnType<typeof setTimeout> | undefined
  let probe: AbortController | undefined
  const confirmed = new Set<string>()
  const h = ctx.handlers

  const detach = () => {
    clearTimeout(timer)
    probe?.abort()
    es?.close()
    es = null
  }

  const fail = (info: TransportClose) => {
    if (closed) return
    closed = true
    detach()
    h.close(info)
  }

  const diagnose = async (url: string, source: EventSource) => {
    const ac = (probe = new AbortController())
    try {
      const res = await ctx.env.fetch(url, { signal: ac.signal, headers: { accept: 'text/event-stream' } })
      ac.abort()
      if (es !== source) return
      if (res.ok) return fail({ opened, message: 'SSE stream failed' })
      const err = await errorFrom(res)
      fail({ opened, code: err.code as ErrorCode, status: res.status, message: err.message })
    } catch {
      if (es === source) fail({ opened, message: 'SSE unreachable' })
    }
  }

  const connect = () => {
    queued = false
    detach()
    if (closed) return
    const starts = ctx.channels()
    if (starts.length === 0) {
      // Nothing to stream: idle until a channel is added.
      if (!opened) {
        opened = true
        h.open({})
      }
      return
    }
    const q = startQuery(starts)
    const url = endpoint(ctx, 'sse', { channels: q.channels, token, lastEventId: q.cursor, rewind: q.rewind })
    const source = (es = new ctx.env.EventSource(url))
    let streaming = false
    timer = setTimeout(() => fail({ opened, message: 'SSE open timeout' }), ctx.connectTimeout)
    const json = (ev: Event) => JSON.parse((ev as MessageEvent<string>).data) as never
    const on = (type: string, fn: (ev: Event) => void) =>
      source.addEventListener(type, (ev) => {
        if (es === source) fn(ev)
      })
    on('open', () => {
      streaming = true
      clearTimeout(timer)
      if (!opened) {
        opened = true
        h.open({})
      }
    })
    on('subscribed', (ev) => {
      const s: SseSubscribed = json(ev)
      if (!confirmed.has(s.channel) || s.recovered === false) {
        confirmed.add(s.channel)
        h.subscribed(s)
      }
    })
    on('message', (ev) => h.message(json(ev)))
    on('presence', (ev) => h.presence(json(ev)))
    on('error', (ev) => {
      const data = (ev as MessageEvent).data
      if (typeof data === 'string') {
        const e: { code: ErrorCode; message: string } = json(ev)
        return fail({ opened, code: e.code, message: e.message })
      }
      if (streaming) return fail({ opened, message: 'SSE stream ended' })
      source.close() // stop EventSource's own retries; the SDK decides
      void diagnose(url, source)
    })
  }

  const reopen = () => {
    if (closed || queued) return
    queued = true
    queueMicrotask(connect)
  }

  return {
    name: 'sse',
    open: connect,
    subscribe: reopen,
    unsubscribe(channel) {
      confirmed.delete(channel)
      reopen()
    },
    setToken(t) {
      token = t
      reopen()
    },
    close() {
      closed = true
      detach()
    },
  }
}
