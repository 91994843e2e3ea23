import type { Position } from './message.js'

/**
 * A cursor is an opaque ASCII string that encodes each channel's `{epoch, seq}`.
 * SSE event ids and poll cursors share it, so any transport resumes from any other's.
 *
 * Encoding: base64url of lines `epoch seq channel` joined by `\n`. Channel names and
 * epochs never contain a space or a newline, so the text form is unambiguous.
 */
export type CursorPositions = Record<string, Position>

const B64URL = /^[A-Za-z0-9_-]*$/
const EPOCH = /^[A-Za-z0-9_-]{1,64}$/
const MAX_CURSOR_LENGTH = 16384

function toBase64Url(text: string): string {
  return btoa(text).replace(/\+/g, '-').replace(/\//g, '_').replace(/=+$/, '')
}

function fromBase64Url(text: string): string {
  const b64 = text.replace(/-/g, '+').replace(/_/g, '/')
  return atob(b64)
}

/** Encodes channel positions into a cursor. Channels are sorted so equal states give equal cursors. */
export function encodeCursor(positions: CursorPositions): string {
  const lines: string[] = []
  for (const channel of Object.keys(positions).sort()) {
    const p = positions[channel]!
    lines.push(`${p.epoch} ${p.seq} ${channel}`)
  }
  return toBase64Url(lines.join('\n'))
}

/** Encodes one channel's position (the cursor of a single-channel stream). */
export function encodeSingleCursor(channel: string, position: Position): string {
  return toBase64Url(`${position.epoch} ${position.seq} ${channel}`)
}

/**
 * Decodes a cursor. Returns `null` when it is malformed (the caller answers `bad_request`).
 * The empty string decodes to no positions.
 */
export function decodeCursor(cursor: string): CursorPositions | null {
  if (cursor.length > MAX_CURSOR_LENGTH || !B64URL.test(cursor)) return null
  let text: string
  try {
    text = fromBase64Url(cursor)
  } catch {
    return null
  }
  const out: CursorPositions = {}
  if (text.length === 0) return out
  for (const line of text.split('\n')) {
    const first = line.indexOf(' ')
    const second = line.indexOf(' ', first + 1)
    if (first <= 0 || second <= first + 1) return null
    const epoch = line.slice(0, first)
    const seqText = line.slice(first + 1, second)
    const channel = line.slice(second + 1)
    if (!EPOCH.test(epoch) || !/^\d{1,15}$/.test(seqText) || channel.length === 0) return null
    if (!/^[A-Za-z0-9_\-=@.;:/]{1,164}$/.test(channel)) return null
    out[channel] = { epoch, seq: Number(seqText) }
  }
  return out
}
