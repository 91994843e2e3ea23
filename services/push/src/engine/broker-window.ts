import type { Message, Position } from '@herald/protocol'
import type { RecoverResult } from './broker.js'

/**
 * The part of a channel's stored history that is still inside the window: entries of the
 * current epoch younger than `ttlSeconds`. Everything up to the last expired entry is dropped,
 * so what is returned is always a gap-free run of seqs ending at the newest entry.
 *
 * @example
 * const live = retained(all, 'e_abc', 3600, Date.now())
 */
export function retained(stored: readonly Message[], epoch: string, ttlSeconds: number, now: number): Message[] {
  const cutoff = now - ttlSeconds * 1000
  let start = 0
  for (let i = 0; i < stored.length; i++) {
    const m = stored[i]!
    if (m.ts < cutoff || m.epoch !== epoch) start = i + 1
  }
  return start === 0 ? stored.slice() : stored.slice(start)
}

/**
 * History per the contract: with `after`, the next `limit` messages after that seq;
 * without it, the latest `limit`. Oldest first.
 *
 * @example
 * selectHistory(live, { limit: 10, after: 41 }) // seqs 42..51 when present
 */
export function selectHistory(live: readonly Message[], query: { limit: number; after?: number }): Message[] {
  const limit = Math.max(0, Math.floor(query.limit))
  if (limit === 0) return []
  if (query.after === undefined) return live.slice(Math.max(0, live.length - limit))
  const after = query.after
  const out: Message[] = []
  for (const m of live) {
    if (m.seq > after) {
      out.push(m)
      if (out.length === limit) break
    }
  }
  return out
}

/**
 * Recovery decision shared by every driver.
 *
 * Recovered (with exactly the missed messages, in order) only when `since` is in the current
 * epoch, not ahead of it, every message after it is still retained, and at most `limit` were
 * missed. Otherwise `recovered: false` with no messages and the current position: the client
 * must treat its state as stale (more than `limit` missed counts as not recoverable, so a
 * client never gets a silently truncated catch-up).
 *
 * @example
 * recoverFrom({ epoch: 'e_a', seq: 7 }, live, { epoch: 'e_a', seq: 5 }, 100) // seqs 6, 7
 */
export function recoverFrom(position: Position, live: readonly Message[], since: Position, limit: number): RecoverResult {
  const no: RecoverResult = { position, messages: [], recovered: false }
  if (since.epoch !== position.epoch) return no
  if (!Number.isInteger(since.seq) || since.seq < 0 || since.seq > position.seq) return no
  const missed = position.seq - since.seq
  if (missed === 0) return { position, messages: [], recovered: true }
  if (missed > limit) return no
  const oldest = live.length > 0 ? live[0]!.seq : position.seq + 1
  if (since.seq < oldest - 1) return no
  const messages = live.filter((m) => m.seq > since.seq)
  if (messages.length !== missed) return no
  return { position, messages, recovered: true }
}
