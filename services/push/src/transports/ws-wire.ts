import type { Socket } from 'node:net'

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
export interface Flushable {
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
export function scheduleFlush(f: Flushable): void {
  dirty.add(f)
  if (!scheduled) {
    scheduled = true
    setImmediate(flushAll)
  }
}

/** The raw socket under a `ws` WebSocket (ws keeps it in `_socket`; permessage-deflate is off, so writes never interleave with a compressing sender). */
export function rawSocket(ws: unknown): Socket {
  return (ws as { _socket: Socket })._socket
}
