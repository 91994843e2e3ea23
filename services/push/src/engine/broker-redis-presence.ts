import type { PresenceMember } from '@herald/protocol'
import type { Redis } from 'ioredis'
import type { RedisKeys } from './redis-keys.js'
import { PRESENCE_ADD_SCRIPT, PRESENCE_EXPIRED_SCRIPT, PRESENCE_REMOVE_SCRIPT } from './redis-scripts.js'

interface LocalEntry {
  appId: string
  channel: string
  connectionId: string
  member: PresenceMember
}

/**
 * Presence of the Redis broker. Entries are per connection and carry an expiry in a shared
 * zset; this node re-asserts its own entries every `ttlMs / 3` (heartbeat), and every node
 * sweeps entries whose expiry passed (a dead node's), publishing their `leave` events.
 * Join/leave events travel on the channel's pub/sub channel as `p` + event JSON.
 */
export class RedisPresence {
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
