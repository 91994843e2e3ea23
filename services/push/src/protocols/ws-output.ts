import type { Socket } from 'node:net'
import type { WebSocket } from 'ws'
import { atTurnEnd } from '../engine/turn.js'

/**
 * Builds a complete, unmasked WebSocket text frame (RFC 6455 §5.2) around a payload.
 * A message is framed once and the same bytes are written to every subscriber's socket,
 * instead of letting the library frame it again per socket.
 */
export function frameText(payload: Buffer): Buffer {
  const len = payload.length
  let headerLength = 2
  if (len >= 65536) headerLength = 10
  else if (len >= 126) headerLength = 4
  const frame = Buffer.allocUnsafe(headerLength + len)
  frame[0] = 0x81 // FIN + text
  if (headerLength === 2) frame[1] = len
  else if (headerLength === 4) {
    frame[1] = 126
    frame.writeUInt16BE(len, 2)
  } else {
    frame[1] = 127
    frame.writeUInt32BE(Math.floor(len / 2 ** 32), 2)
    frame.writeUInt32BE(len >>> 0, 6)
  }
  payload.copy(frame, headerLength)
  return frame
}

/** Something with frames waiting to be written at the end of this turn of the event loop. */
interface Flushable {
  flush(): void
}

const dirty = new Set<Flushable>()
let scheduled = false

function flushAll(): void {
  scheduled = false
  for (const f of dirty) f.flush()
  dirty.clear()
}

/**
 * Coalesces writes: every frame queued for a socket during one turn of the event loop goes
 * out in one `write` (a burst of N messages costs one syscall per socket, not N).
 */
function scheduleFlush(f: Flushable): void {
  dirty.add(f)
  if (!scheduled) {
    scheduled = true
    atTurnEnd('write', flushAll)
  }
}

/** The raw socket under a `ws` WebSocket (ws keeps it in `_socket`; permessage-deflate is off, so writes never interleave with a compressing sender). */
function rawSocket(ws: unknown): Socket {
  return (ws as { _socket: Socket })._socket
}

/** What an admitted WebSocket's frames, pongs and close go to (a protocol's wire). */
export interface WsInput {
  socketFrame(data: Buffer, isBinary: boolean): void
  socketClosed(code: number, reason: string): void
  socketPong?(): void
}

/** The WsOutput of a `ws` WebSocket: the socket's listeners are module functions that find it here. */
const OUTPUT = Symbol('herald.wsOutput')
type Tagged = WebSocket & { [OUTPUT]?: WsOutput }

// One set of listener functions for every socket: a connection holds no closures of its own.
function onMessage(this: Tagged, data: Buffer, isBinary: boolean): void {
  this[OUTPUT]?.received(data, isBinary)
}
function onPong(this: Tagged): void {
  this[OUTPUT]?.input?.socketPong?.()
}
function onClose(this: Tagged, code: number, reason: Buffer): void {
  const out = this[OUTPUT]
  if (!out) return
  lingering.delete(out)
  out.input?.socketClosed(code, reason.toString())
}
function onError(this: Tagged, err: Error): void {
  this[OUTPUT]?.logger.debug({ err }, 'websocket error')
  this.terminate()
}

/** Logs a socket error (the socket is dropped). */
export interface WsLogger {
  debug(obj: object, msg: string): void
}

/** A peer that does not answer a close within this is dropped (a slow consumer gets ws's own 30 s close timeout instead). */
const CLOSE_GRACE_MS = 2000

/** Sockets of closed slow consumers still waiting for their close frame to get through. */
const lingering = new Set<WsOutput>()

/**
 * The socket side of a server WebSocket (`ws`, permessage-deflate off), for every protocol's
 * WebSocket wire (extend it or hold one: one object per client on the delivery path).
 *
 * Input: from construction on, the socket's frames are kept in order until the protocol admits
 * the connection ({@link listen}: authentication is asynchronous), then go to its {@link WsInput};
 * so are its pongs and its close. The listeners are shared module functions, added once and
 * never removed (removing one would turn ws's listener table into a slow dictionary).
 *
 * Output: complete frames ({@link frameText}) queued during one turn of the event loop
 * are written together (one cork/uncork per socket per turn), handed to the socket as they are
 * (the frame of a message is shared by every subscriber: a stalled socket holds references,
 * not copies).
 *
 * @example
 * class MyWire extends WsOutput implements Wire {
 *   message(_channel: string, m: EncodedMessage) { return this.write(m.as(myFormat)) }
 * }
 * const wire = new MyWire(ws, logger); ...authenticate...; wire.listen(wire)
 * wire.close(CloseCodes.rateLimited, 'too slow to keep up', { discard: true })
 */
export class WsOutput implements Flushable {
  private out: Buffer[] = []
  private outBytes = 0
  private closing = false
  private readonly socket: Socket
  /** Where frames go once admitted ({@link listen}); until then they wait in `early`. */
  input: WsInput | null = null
  private early: Array<Buffer | boolean> | null = null

  constructor(
    private readonly ws: WebSocket,
    readonly logger: WsLogger,
  ) {
    this.socket = rawSocket(ws)
    const tagged = ws as Tagged
    tagged[OUTPUT] = this
    ws.on('message', onMessage)
    ws.on('close', onClose)
    ws.on('error', onError)
    ws.on('pong', onPong)
  }

  /** Admits the connection: the frames that came in meanwhile go to `input` first, in order. */
  listen(input: WsInput): void {
    this.input = input
    const early = this.early
    this.early = null
    if (early) for (let i = 0; i < early.length; i += 2) input.socketFrame(early[i] as Buffer, early[i + 1] as boolean)
  }

  /** A frame from the socket (the module's `message` listener). */
  received(data: Buffer, isBinary: boolean): void {
    if (this.input) return this.input.socketFrame(data, isBinary)
    if (this.closing) return
    ;(this.early ??= []).push(data, isBinary)
  }

  /** Sends a WebSocket ping (heartbeats). */
  ping(): void {
    this.ws.ping()
  }

  /** Bytes queued here and not yet taken by the kernel. */
  bufferedBytes(): number {
    return this.socket.writableLength + this.outBytes
  }

  /** Queues a complete frame for the end of this turn; returns its length (0 once closing). */
  write(frame: Buffer): number {
    if (this.closing) return 0
    this.out.push(frame)
    this.outBytes += frame.length
    if (this.out.length === 1) scheduleFlush(this)
    return frame.length
  }

  /** Writes what is queued, in one writev. */
  flush(): void {
    if (this.out.length === 0 || this.socket.destroyed) return
    const frames = this.out
    this.out = []
    this.outBytes = 0
    if (frames.length === 1) {
      this.socket.write(frames[0]!)
      return
    }
    this.socket.cork()
    for (const frame of frames) this.socket.write(frame)
    this.socket.uncork()
  }

  /**
   * Closes with a code. What is queued goes first, unless `discard` (a slow consumer: the
   * frames still queued here are dropped and only the close frame follows what the socket
   * already holds; the socket is kept until the peer answers the close or ws's 30 s close
   * timeout, so a client that resumes reading still learns why). Otherwise a peer that does
   * not answer within 2 s is dropped.
   */
  close(code: number, reason: string, options: { discard?: boolean } = {}): void {
    if (this.closing) return
    if (options.discard) {
      this.out = []
      this.outBytes = 0
    } else {
      this.flush()
    }
    this.closing = true
    this.ws.close(code, reason.slice(0, 120))
    if (!options.discard) {
      setTimeout(() => this.ws.terminate(), CLOSE_GRACE_MS).unref()
      return
    }
    lingering.add(this) // until the module's close listener takes it out
  }

  /** Drops every socket still lingering after a slow-consumer close (shutdown: do not wait 30 s for them). */
  static terminateLingering(): void {
    for (const out of [...lingering]) out.terminate()
    lingering.clear()
  }

  /** Drops the socket at once. */
  terminate(): void {
    this.closing = true
    this.out = []
    this.outBytes = 0
    this.ws.terminate()
  }
}
