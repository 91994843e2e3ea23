import type { Client, Message, PresenceEvent, PresenceMember, Subscription } from '@herald/client'

/** A channel error: the subscribe was refused, or a presence/history call failed. */
export interface ChannelError {
  code: string
  message: string
}

/** What `useChannel` renders from: replaced (never mutated) on every change. */
export interface ChannelSnapshot {
  /** The latest messages, oldest first. */
  messages: readonly Message[]
  /** `subscribed` once the server confirmed; `pending` before and while reconnecting. */
  state: 'pending' | 'subscribed'
  error: ChannelError | null
}

/** What `usePresence` renders from. */
export interface PresenceSnapshot {
  /** One entry per clientId, in the order they joined. */
  members: readonly PresenceMember[]
  /** `true` once the member list was fetched (again after each reconnect). */
  synced: boolean
  error: ChannelError | null
}

const EMPTY_PRESENCE: PresenceSnapshot = { members: [], synced: false, error: null }

const toError = (err: unknown): ChannelError => {
  const e = err as { code?: unknown; message?: unknown }
  return { code: typeof e?.code === 'string' ? e.code : 'internal', message: typeof e?.message === 'string' ? e.message : String(err) }
}

/**
 * One subscription of one client to one channel, shared by every hook that uses that
 * channel: hooks `retain` it and `release` it, and the last release unsubscribes one
 * microtask later unless a hook retains it again first (StrictMode's mount-unmount-mount,
 * or a component replaced by another on the same channel). It keeps the latest messages
 * (as many as the largest `limit` asked for) and, while a `usePresence` watches, the
 * members: fetched after every (re)subscribe, kept current by join and leave events.
 */
export class SharedChannel {
  channel: ChannelSnapshot = { messages: [], state: 'pending', error: null }
  presence: PresenceSnapshot = EMPTY_PRESENCE
  readonly subscription: Subscription

  private holders = 0
  private limit = 0
  private closed = false
  private presenceWatchers = 0
  private membersById: Map<string, PresenceMember> | null = null
  private duringFetch: PresenceEvent[] | null = null
  private fetches = 0
  private readonly listeners = new Set<() => void>()
  private readonly messageHandlers = new Set<(m: Message) => void>()
  private readonly offs: Array<() => void>

  constructor(
    client: Client,
    readonly name: string,
    rewind: number | undefined,
    private readonly forget: (entry: SharedChannel) => void,
  ) {
    const sub = client.subscribe(name, undefined, rewind ? { rewind } : undefined)
    this.subscription = sub
    this.offs = [
      sub.on('message', (m) => this.message(m)),
      sub.on('subscribed', () => {
        this.setChannel({ state: 'subscribed', error: null })
        if (this.presenceWatchers > 0) this.fetchMembers()
      }),
      sub.on('error', (e) => this.setChannel({ error: { code: e.code, message: e.message } })),
      sub.on('presence', (e) => this.presenceEvent(e)),
      client.on('state', () => this.setChannel({ state: sub.state === 'subscribed' ? 'subscribed' : 'pending' })),
    ]
    if (sub.state === 'subscribed') this.channel = { ...this.channel, state: 'subscribed' }
  }

  /** Takes a hold; `limit` raises how many latest messages are kept. */
  retain(limit: number): void {
    this.holders++
    this.limit = Math.max(this.limit, limit)
  }

  release(): void {
    if (--this.holders > 0) return
    queueMicrotask(() => {
      if (this.holders > 0 || this.closed) return
      this.closed = true
      for (const off of this.offs) off()
      this.forget(this)
      this.subscription.unsubscribe()
    })
  }

  /** Calls `listener` after every change of a snapshot; returns the remover. */
  watch(listener: () => void): () => void {
    this.listeners.add(listener)
    return () => this.listeners.delete(listener)
  }

  /** Calls `handler` with every message from now on; returns the remover. */
  onMessage(handler: (m: Message) => void): () => void {
    this.messageHandlers.add(handler)
    return () => this.messageHandlers.delete(handler)
  }

  /** Keeps the member list current while the returned function is not called. */
  watchPresence(): () => void {
    if (++this.presenceWatchers === 1 && this.subscription.state === 'subscribed') this.fetchMembers()
    let done = false
    return () => {
      if (done) return
      done = true
      if (--this.presenceWatchers === 0) {
        this.fetches++
        this.membersById = null
        this.duringFetch = null
        this.presence = EMPTY_PRESENCE
      }
    }
  }

  /** Fetches the member list again (when subscribed and watched). */
  refreshMembers(): void {
    if (this.presenceWatchers > 0 && this.subscription.state === 'subscribed') this.fetchMembers()
  }

  private message(m: Message): void {
    if (this.limit > 0) {
      const list = this.channel.messages
      this.setChannel({ messages: list.length >= this.limit ? [...list.slice(list.length - this.limit + 1), m] : [...list, m] })
    }
    for (const h of this.messageHandlers) h(m)
  }

  /**
   * Fetches the members; events arriving meanwhile are applied to the fetched list too,
   * in order, so a join or leave the list predates is not lost (both are idempotent).
   */
  private fetchMembers(): void {
    const fetch = ++this.fetches
    this.duringFetch = []
    this.subscription.members().then(
      (members) => {
        if (fetch !== this.fetches || this.closed) return
        const byId = new Map(members.map((m) => [m.clientId, m]))
        for (const e of this.duringFetch ?? []) apply(byId, e)
        this.duringFetch = null
        this.membersById = byId
        this.setPresence({ members: [...byId.values()], synced: true, error: null })
      },
      (err) => {
        if (fetch !== this.fetches || this.closed) return
        this.duringFetch = null
        this.setPresence({ error: toError(err) })
      },
    )
  }

  private presenceEvent(e: PresenceEvent): void {
    if (this.presenceWatchers === 0) return
    this.duringFetch?.push(e)
    if (!this.membersById) return
    apply(this.membersById, e)
    this.setPresence({ members: [...this.membersById.values()] })
  }

  private setChannel(change: Partial<ChannelSnapshot>): void {
    const next = { ...this.channel, ...change }
    if (next.messages === this.channel.messages && next.state === this.channel.state && next.error === this.channel.error) return
    this.channel = next
    this.notify()
  }

  private setPresence(change: Partial<PresenceSnapshot>): void {
    this.presence = { ...this.presence, ...change }
    this.notify()
  }

  private notify(): void {
    for (const l of this.listeners) l()
  }
}

function apply(byId: Map<string, PresenceMember>, { action, member }: PresenceEvent): void {
  if (action === 'leave') byId.delete(member.clientId)
  else byId.set(member.clientId, member) // a known clientId keeps its place, with the latest info
}

const registries = new WeakMap<Client, Map<string, SharedChannel>>()

/**
 * The shared subscription of `client` to `name`, made on first use, with a hold taken.
 * `rewind` counts only when the subscription is made.
 */
export function retainChannel(client: Client, name: string, options: { rewind?: number; limit: number }): SharedChannel {
  let channels = registries.get(client)
  if (!channels) {
    channels = new Map()
    registries.set(client, channels)
  }
  let entry = channels.get(name)
  if (!entry) {
    const map = channels
    entry = new SharedChannel(client, name, options.rewind, (e) => map.get(e.name) === e && map.delete(e.name))
    channels.set(name, entry)
  }
  entry.retain(options.limit)
  return entry
}

/** The shared subscription of `client` to `name`, if a hook holds one. */
export function peekChannel(client: Client, name: string): SharedChannel | undefined {
  return registries.get(client)?.get(name)
}
