import type { PresenceMember } from '@herald/protocol'
import type { Redis } from 'ioredis'
import type { PresenceManager } from './presence.js'
import { createRedis, quit, type RedisClientOptions } from './redis-client.js'
import { RedisKeys } from './redis-keys.js'
import { PRESENCE_ADD_SCRIPT, PRESENCE_DEAD_NODES_SCRIPT, PRESENCE_FORGET_NODE_SCRIPT, PRESENCE_LEASE_SCRIPT, PRESENCE_REMOVE_SCRIPT } from './redis-scripts.js'

export interface RedisPresenceOptions extends RedisClientOptions {
  /** This node's unique id (connection names). */
  nodeId: string
  /** Prefix of every key and pub/sub channel; the broker's. Default `herald`. */
  keyPrefix?: string
  /** This node's presence lease: its members leave this long (plus up to a third of it) after its last heartbeat. Default 9 000 ms. */
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
    this.store = new RedisPresence(this.cmd, this.keys, options.ttlMs ?? 9_000, onError, options.nodeId)
  }

  async start(): Promise<void> {
    await this.cmd.connect()
    await this.store.start()
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

  /** Renewal of this node's lease and a sweep of dead nodes' entries (tests). */
  tick(): Promise<void> {
    return this.store.tick()
  }

  /** Stops renewing the lease (this node's entries are then swept, as when the process dies) and disconnects. */
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
 * The presence store. Entries are per connection, filed under the node that holds
 * the connection; the node, not each entry, holds a lease that it renews every `ttlMs / 3` with
 * one command (no Redis traffic per connection between its join and its leave). Every node
 * sweeps, at the same interval, the entries of nodes whose lease ran out (dead ones),
 * publishing their `leave` events: a dead node's members leave within `ttlMs + ttlMs / 3`.
 * A node that finds its lease gone (Redis lost its data, or it was swept after a long stall)
 * asserts its entries again. Join/leave events travel on the channel's pub/sub channel as
 * `p` + event JSON.
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
    private readonly nodeId: string,
  ) {}

  /**
   * Takes this node's lease (before any entry is added) and removes what a previous process
   * with the same node id left behind (it died; its connections are gone), then renews the
   * lease and sweeps on a timer.
   */
  async start(): Promise<void> {
    await PRESENCE_LEASE_SCRIPT.run(this.redis, [this.keys.presenceLeases()], [this.nodeId, this.ttlMs])
    await this.removeAllOf(this.nodeId, false)
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

  async remove(appId: string, channel: string, connectionId: string): Promise<void> {
    this.local.delete(this.keys.presenceEntry(appId, channel, connectionId))
    await this.removeOf(this.nodeId, appId, channel, connectionId, false)
  }

  /** Removes an entry of `nodeId`; with `onlyDead`, only while that node's lease is out. */
  private async removeOf(nodeId: string, appId: string, channel: string, connectionId: string, onlyDead: boolean): Promise<void> {
    await PRESENCE_REMOVE_SCRIPT.run(
      this.redis,
      [this.keys.presence(appId, channel), this.keys.presenceCounts(appId, channel), this.keys.presenceNode(nodeId), this.keys.presenceLeases()],
      [
        connectionId,
        this.keys.presenceEntry(appId, channel, connectionId),
        this.keys.pubsub(appId, channel),
        eventPrefix(channel),
        onlyDead ? '1' : '0',
        nodeId,
      ],
    )
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
    const gone: string[] = []
    for (const [k, e] of this.local) {
      if (e.appId !== appId) continue
      this.local.delete(k)
      gone.push(k)
    }
    if (gone.length > 0) this.redis.srem(this.keys.presenceNode(this.nodeId), ...gone).catch(this.onError)
  }

  /** Renews this node's lease (asserting its entries again when the lease was gone), then sweeps dead nodes. Public for tests. */
  async tick(): Promise<void> {
    if (this.running) return
    this.running = true
    try {
      const lost = (await PRESENCE_LEASE_SCRIPT.run(this.redis, [this.keys.presenceLeases()], [this.nodeId, this.ttlMs])) === 1
      if (lost) await Promise.all([...this.local.values()].map((e) => this.assert(e)))
      await this.sweep()
    } catch (err) {
      this.onError(err)
    } finally {
      this.running = false
    }
  }

  private async sweep(): Promise<void> {
    const dead = (await PRESENCE_DEAD_NODES_SCRIPT.run(this.redis, [this.keys.presenceLeases()], [100])) as string[]
    for (const nodeId of dead) {
      if (nodeId === this.nodeId) continue
      await this.removeAllOf(nodeId, true)
      await PRESENCE_FORGET_NODE_SCRIPT.run(this.redis, [this.keys.presenceLeases(), this.keys.presenceNode(nodeId)], [nodeId])
    }
  }

  /** Removes the entries filed under `nodeId` (with `onlyDead`, while its lease is out), with their `leave` events. */
  private async removeAllOf(nodeId: string, onlyDead: boolean): Promise<void> {
    const owned = this.keys.presenceNode(nodeId)
    let left = Number.POSITIVE_INFINITY
    for (;;) {
      const entries = await this.redis.srandmember(owned, 200)
      if (entries.length === 0) return
      for (const raw of entries) {
        const e = this.keys.parsePresenceEntry(raw)
        if (e) await this.removeOf(nodeId, e.appId, e.channel, e.connectionId, onlyDead)
        else await this.redis.srem(owned, raw)
      }
      // No progress: the node came back meanwhile and keeps what is left.
      const now = await this.redis.scard(owned)
      if (now >= left) return
      left = now
    }
  }

  private async assert(e: LocalEntry): Promise<void> {
    await PRESENCE_ADD_SCRIPT.run(this.redis, this.scriptKeys(e.appId, e.channel), [
      e.connectionId,
      JSON.stringify(e.member),
      e.member.clientId,
      '',
      this.keys.presenceEntry(e.appId, e.channel, e.connectionId),
      this.keys.pubsub(e.appId, e.channel),
      eventPrefix(e.channel),
    ])
  }

  private scriptKeys(appId: string, channel: string): string[] {
    return [this.keys.presence(appId, channel), this.keys.presenceCounts(appId, channel), this.keys.presenceNode(this.nodeId)]
  }
}

/** `{"channel":"<c>","action":"` — the script appends the action and the member. */
function eventPrefix(channel: string): string {
  return `{"channel":${JSON.stringify(channel)},"action":"`
}

function normalize(member: PresenceMember): PresenceMember {
  return member.info === undefined ? { clientId: member.clientId } : { clientId: member.clientId, info: member.info }
}
