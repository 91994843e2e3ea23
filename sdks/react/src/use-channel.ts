import type { Message, PublishOptions, PublishResult, Subscription } from '@herald/client'
import { isValidChannel } from '@herald/protocol'
import { useCallback, useEffect, useMemo, useRef, useSyncExternalStore } from 'react'
import { useHerald } from './context.js'
import { peekChannel, retainChannel, type ChannelError, type ChannelSnapshot } from './shared-channel.js'

/** A message whose `data` the caller declared as `T` (a type only: nothing is checked). */
export type ChannelMessage<T = unknown> = Omit<Message, 'data'> & { data: T }

/** Options of {@link useChannel}. */
export interface UseChannelOptions {
  /** When this hook makes the channel's subscription, also deliver the last `rewind` messages. */
  rewind?: number
  /** How many of the latest messages `messages` holds (default 100). */
  limit?: number
}

/** What {@link useChannel} returns. */
export interface UseChannelResult<T> {
  /** The latest messages, oldest first, at most `limit`. */
  messages: readonly ChannelMessage<T>[]
  /** `idle` without a channel name; `pending` until the server confirms, and while reconnecting. */
  state: 'idle' | 'pending' | 'subscribed'
  error: ChannelError | null
  /** The shared subscription (`history()`, `members()`, its events), or `null` when idle. */
  subscription: Subscription | null
  /** Publishes on this channel (over the WebSocket when connected on it, else REST). */
  publish(data: T, options?: PublishOptions): Promise<PublishResult>
}

const IDLE: ChannelSnapshot = { messages: [], state: 'pending', error: null }
const DEFAULT_LIMIT = 100

/**
 * Subscribes to a channel while the component is mounted and returns its latest messages.
 * Components using the same channel share one subscription; the last to unmount ends it.
 * `name: null` subscribes to nothing (for a channel chosen later).
 *
 * @example
 * const { messages, state, publish } = useChannel<{ text: string }>('chat', undefined, { rewind: 20 })
 * useChannel('alerts', (m) => toast(m.data))
 */
export function useChannel<T = unknown>(
  name: string | null,
  onMessage?: (message: ChannelMessage<T>) => void,
  options: UseChannelOptions = {},
): UseChannelResult<T> {
  const client = useHerald()
  const limit = Math.max(0, options.limit ?? DEFAULT_LIMIT)
  const rewind = options.rewind
  const handler = useRef(onMessage)
  useEffect(() => {
    handler.current = onMessage
  })
  const invalid = name !== null && !isValidChannel(name)

  const subscribe = useCallback(
    (notify: () => void) => {
      if (name === null || invalid) return () => {}
      const entry = retainChannel(client, name, { rewind, limit })
      const offs = [entry.watch(notify), entry.onMessage((m) => handler.current?.(m as ChannelMessage<T>))]
      return () => {
        for (const off of offs) off()
        entry.release()
      }
    },
    [client, name, invalid, rewind, limit],
  )
  const snapshot = useSyncExternalStore(
    subscribe,
    () => (name === null ? IDLE : (peekChannel(client, name)?.channel ?? IDLE)),
    () => IDLE,
  )
  const publish = useCallback(
    (data: T, opts?: PublishOptions) => (name === null ? Promise.reject(new Error('useChannel: no channel to publish on')) : client.publish(name, data, opts)),
    [client, name],
  )
  const messages = useMemo(
    () => (snapshot.messages.length > limit ? snapshot.messages.slice(-limit) : snapshot.messages) as readonly ChannelMessage<T>[],
    [snapshot.messages, limit],
  )
  return {
    messages: limit === 0 ? [] : messages,
    state: name === null ? 'idle' : snapshot.state,
    error: invalid ? { code: 'bad_request', message: `invalid channel name: ${name}` } : snapshot.error,
    subscription: name === null ? null : (peekChannel(client, name)?.subscription ?? null),
    publish,
  }
}
