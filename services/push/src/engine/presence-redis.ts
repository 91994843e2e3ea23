import type { PresenceMember } from '@herald/protocol'
import type { Redis } from 'ioredis'
import type { PresenceManager } from './presence.js'
import { createRedis, quit, type RedisClientOptions } from './redis-client.js'
import { RedisKeys } from './redis-keys.js'
import { PRESENCE_ADD_SCRIPT, PRESENCE_EXPIRED_SCRIPT, PRESENCE_REMOVE_SCRIPT } from './redis-scripts.js'

export interface RedisPresenceOptions extends RedisClientOptions {
  /** This node's unique id (connection names). */
  nodeId: string
  /** Prefix of every key and pub/sub channel; the broker's. Default `herald`. */
  keyPrefix?: string
  /** A presence entry expires this long after its node's last heartbeat. Default 30 000 ms. */
  ttlMs?: number
  /** Errors of background work (heartbeats, sweeps). */
  onError?: (err: unknown) => void
}

/**
 * Presence on Redis, for many nodes. Join and leave events are published on the channel's
 * pub/sub channel (`p` + event JSON), the one the Redis broker subscribes for the channel's
 * messages: every node with a local subscriber gets them through its broker, in order with the
 * channel's messages (as centrifuge publishes join/leave through its Broker). `start` needs no
 * handler for that reason.
 *
 * @example
 * const presence = new RedisPresenceManager({ url: 'redis://127.0.0.1:6379', nodeId: 'node-1' })
 * await presence.start(hub)
 */
export class RedisPresenceManager implements PresenceManager {
  readonly driver = 'redis'
  private readonly cmd: Redis
  private readonly store: RedisPresence
  private readonly keys: RedisKeys

  constructor(options: RedisPresenceOptions) {
    const onError = options.onError ?? (() => {})
    this.keys = new RedisKeys(options.keyPrefix ?? 'herald')
    this.cmd = createRedis(options, `herald-presence-${options.nodeId}`)
    this.cmd.on('error', onError)
    this.store = new RedisPresence(this.cmd, this.keys, options.ttlMs ?? 30_000, onError)
  }

  async start(): Promise<void> {
    await this.cmd.connect()
    this.store.start()
  }

  add(appId: string, channel: string, connectionId: string, member: PresenceMember): Promise<void> {
    return this.store.add(appId, channel, connectionId, member)
  }

  remove(appId: string, channel: string, connectionId: string): Promise<void> {
    return this.store.remove(appId, channel, connectionId)
  }

  members(appId: string, channel: string): Promise<PresenceMember[]> {
    return this.store.members(appId, channel)
  }

  async removeApp(appId: string): Promise<void> {
    this.store.forgetApp(appId)
    let cursor = '0'
    do {
      const [next, found] = await this.cmd.scan(cursor, 'MATCH', this.keys.presencePattern(appId), 'COUNT', 1000)
      cursor = next
      if (found.length > 0) await this.cmd.unlink(...found)
    } while (cursor !== '0')
  }

  /** Heartbeat of this node's entries and a sweep of expired ones (tests). */
  tick(): Promise<void> {
    return this.store.tick()
  }

  /** Stops heartbeats (this node's entries then expire, as when the process dies) and disconnects. */
  async close(): Promise<void> {
    this.store.stop()
    await quit(this.cmd)
  }
}

interface LocalEntry {
  appId: string
  channel: string
  connectionId: string
  member: PresenceMember
}

/**
 * The presence store. Entries are per connection and carry an expiry in a shared
 * zset; this node re-asserts its own entries every `ttlMs / 3` (heartbeat), and every node
 * sweeps entries whose expiry passed (a dead node's), publishing their `leave` events.
 * Join/leave events travel on the channel's pub/sub channel as `p` + event JSON.
 */
class RedisPresence {
  private readonly local = new Map<string, LocalEntry>()
  private timer: NodeJS.Timeout | null = null
  private running = false

  constructor(
    private readonly redis: Redis,
    private readonly keys: RedisKeys,
    private readonly ttlMs: number,
    private readonly onError: (err: unknown) => void,
  ) {}

  start(): void {
    this.timer = setInterval(() => void this.tick(), Math.max(50, Math.floor(this.ttlMs / 3)))
    this.timer.unref()
  }

  stop(): void {
    if (this.timer) clearInterval(this.timer)
    this.timer = null
  }

  async add(appId: string, channel: string, connectionId: string, member: PresenceMember): Promise<void> {
    const entry: LocalEntry = { appId, channel, connectionId, member: normalize(member) }
    this.local.set(this.keys.presenceEntry(appId, channel, connectionId), entry)
    await this.assert(entry)
  }

  async remove(appId: string, channel: string, connectionId: string, onlyExpired = false): Promise<void> {
    const entryKey = this.keys.presenceEntry(appId, channel, connectionId)
    if (!onlyExpired) this.local.delete(entryKey)
    await PRESENCE_REMOVE_SCRIPT.run(this.redis, this.scriptKeys(appId, channel), [
      connectionId,
      entryKey,
      this.keys.pubsub(appId, channel),
      eventPrefix(channel),
      onlyExpired ? '1' : '0',
    ])
  }

  async members(appId: string, channel: string): Promise<PresenceMember[]> {
    const values = await this.redis.hvals(this.keys.presence(appId, channel))
    const byClient = new Map<string, PresenceMember>()
    for (const v of values) {
      const m = JSON.parse(v) as PresenceMember
      if (!byClient.has(m.clientId)) byClient.set(m.clientId, m)
    }
    return [...byClient.values()]
  }

  /** Forgets this node's entries of an app (its keys are being deleted). */
  forgetApp(appId: string): void {
    for (const [k, e] of this.local) if (e.appId === appId) this.local.delete(k)
  }

  /** Heartbeat of own entries, then a sweep of expired ones. Public for tests. */
  async tick(): Promise<void> {
    if (this.running) return
    this.running = true
    try {
      await Promise.all([...this.local.values()].map((e) => this.assert(e)))
      await this.sweep()
    } catch (err) {
      this.onError(err)
    } finally {
      this.running = false
    }
  }

  private async sweep(): Promise<void> {
    for (let round = 0; round < 100; round++) {
      const expired = (await PRESENCE_EXPIRED_SCRIPT.run(this.redis, [this.keys.presenceExpiry()], [200])) as string[]
      for (const raw of expired) {
        const e = this.keys.parsePresenceEntry(raw)
        if (e) await this.remove(e.appId, e.channel, e.connectionId, true)
        else await this.redis.zrem(this.keys.presenceExpiry(), raw)
      }
      if (expired.length < 200) return
    }
  }

  private async assert(e: LocalEntry): Promise<void> {
    await PRESENCE_ADD_SCRIPT.run(this.redis, this.scriptKeys(e.appId, e.channel), [
      e.connectionId,
      JSON.stringify(e.member),
      e.member.clientId,
      this.ttlMs,
      this.keys.presenceEntry(e.appId, e.channel, e.connectionId),
      this.keys.pubsub(e.appId, e.channel),
      eventPrefix(e.channel),
    ])
  }

  private scriptKeys(appId: string, channel: string): string[] {
    return [this.keys.presence(appId, channel), this.keys.presenceCounts(appId, channel), this.keys.presenceExpiry()]
  }
}

/** `{"channel":"<c>","action":"` — the script appends the action and the member. */
function eventPrefix(channel: string): string {
  return `{"channel":${JSON.stringify(channel)},"action":"`
}

function normalize(member: PresenceMember): PresenceMember {
  return member.info === undefined ? { clientId: member.clientId } : { clientId: member.clientId, info: member.info }
}
