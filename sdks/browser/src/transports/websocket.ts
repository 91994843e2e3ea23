import { type ClientFrame, CloseCodes, type ErrorCode, ErrorRecovery, type ServerFrame } from '@herald/protocol'
import { HeraldError } from '../errors.js'
import { endpoint, type ChannelStart, type Transport, type TransportContext } from './transport.js'

const REQUEST_TIMEOUT = 10_000
const PONG_TIMEOUT = 5_000
const HEARTBEAT_MARGIN = 5_000

interface Pending {
  resolve(frame: ServerFrame): void
  reject(err: Error): void
  timer: ReturnType<typeof setTimeout>
}

/**
 * The WebSocket transport. Opened means the server's `connected` frame arrived (within
 * `connectTimeout`, else the attempt fails and the next transport is tried). Browsers
 * cannot see protocol-level pings, so after `heartbeat` seconds (+ margin) of silence it
 * sends `{"op":"ping"}` and treats a missing answer as a dead connection.
 *
 * @example
 * const t = websocketTransport(context); t.open()
 */
export function websocketTransport(ctx: TransportContext): Transport {
  let ws: WebSocket | null = null
  let opened = false
  let closed = false
  let ref = 0
  let heartbeat = 25
  let timer: ReturnType<typeof setTimeout> | undefined
  let lastError: { code: ErrorCode; message: string } | undefined
  const pending = new Map<number, Pending>()
  const subscribeRefs = new Map<number, string>()
  const subscribed = new Set<string>()

  const send = (frame: ClientFrame) => ws?.send(JSON.stringify(frame))

  const arm = (ms: number, fn: () => void) => {
    clearTimeout(timer)
    timer = setTimeout(fn, ms)
  }

  const watch = () => {
    arm(heartbeat * 1000 + HEARTBEAT_MARGIN, () => {
      send({ op: 'ping' })
      arm(PONG_TIMEOUT, () => end({ opened, message: 'heartbeat timeout' }))
    })
  }

  const end = (info: Parameters<TransportContext['handlers']['close']>[0]) => {
    if (closed) return
    shutdown()
    ctx.handlers.close(info)
  }

  const shutdown = () => {
    closed = true
    clearTimeout(timer)
    for (const p of pending.values()) {
      clearTimeout(p.timer)
      p.reject(new HeraldError('disconnected', 'connection closed before the reply'))
    }
    pending.clear()
    if (ws) {
      ws.onopen = ws.onmessage = ws.onclose = ws.onerror = null
      try {
        ws.close(1000)
      } catch {}
    }
  }

  const subscribe = (s: ChannelStart) => {
    if (subscribed.has(s.channel)) return
    subscribed.add(s.channel)
    const r = ++ref
    subscribeRefs.set(r, s.channel)
    const frame: ClientFrame = { op: 'subscribe', channel: s.channel, ref: r }
    if (s.since) frame.since = s.since
    else if (s.rewind) frame.rewind = s.rewind
    send(frame)
  }

  const onFrame = (frame: ServerFrame) => {
    const h = ctx.handlers
    const r = 'ref' in frame ? frame.ref : undefined
    const p = typeof r === 'number' ? pending.get(r) : undefined
    if (p) {
      pending.delete(r as number)
      clearTimeout(p.timer)
      if (frame.op === 'error') p.reject(new HeraldError(frame.code, frame.message))
      else p.resolve(frame)
      return
    }
    switch (frame.op) {
      case 'connected':
        opened = true
        heartbeat = frame.heartbeat > 0 ? frame.heartbeat : heartbeat
        watch()
        for (const s of ctx.channels()) subscribe(s)
        h.open({ clientId: frame.clientId })
        return
      case 'subscribed':
        return h.subscribed(frame)
      case 'message': {
        const { op: _op, ...message } = frame
        return h.message(message)
      }
      case 'presence':
        return h.presence({ channel: frame.channel, action: frame.action, member: frame.member })
      case 'error': {
        if (!opened) {
          lastError = frame
          return
        }
        const channel = frame.channel ?? (typeof r === 'number' ? subscribeRefs.get(r) : undefined)
        if (channel === undefined && ErrorRecovery[frame.code] === 'new_token') {
          return end({ opened, code: frame.code, status: CloseCodes.unauthorized, message: frame.message })
        }
        return h.error({ code: frame.code, message: frame.message, channel })
      }
    }
  }

  return {
    name: 'websocket',
    open() {
      const url = endpoint(ctx, 'ws', { token: ctx.token }).replace(/^http/, 'ws')
      try {
        ws = new ctx.env.WebSocket(url)
      } catch (err) {
        queueMicrotask(() => end({ opened: false, message: String(err) }))
        return
      }
      arm(ctx.connectTimeout, () => end({ opened: false, message: 'WebSocket handshake timeout' }))
      ws.onmessage = (ev) => {
        if (closed) return
        let frame: ServerFrame
        try {
          frame = JSON.parse(String(ev.data)) as ServerFrame
        } catch {
          return
        }
        if (opened) watch()
        onFrame(frame)
      }
      ws.onclose = (ev) => {
        const code = lastError?.code
        end({ opened, status: ev.code, code, message: ev.reason || lastError?.message || `WebSocket closed (${ev.code})` })
      }
    },
    subscribe(s) {
      if (opened && !closed) subscribe(s)
    },
    unsubscribe(channel) {
      if (opened && !closed && subscribed.delete(channel)) send({ op: 'unsubscribe', channel, ref: ++ref })
    },
    setToken(token) {
      if (!opened || closed) return
      this.request!({ op: 'auth', token })?.catch((err: HeraldError) => {
        const code = err.code as ErrorCode
        if (ErrorRecovery[code] === 'new_token') end({ opened, code, status: CloseCodes.unauthorized, message: err.message })
      })
    },
    request(frame) {
      if (!opened || closed) return null
      const r = ++ref
      return new Promise<ServerFrame>((resolve, reject) => {
        const t = setTimeout(() => {
          pending.delete(r)
          reject(new HeraldError('timeout', `no reply to ${frame.op}`))
        }, REQUEST_TIMEOUT)
        pending.set(r, { resolve, reject, timer: t })
        send({ ...frame, ref: r })
      })
    },
    close() {
      if (!closed) shutdown()
    },
  }
}
