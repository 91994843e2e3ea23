import { Redis } from 'ioredis'
import { LuaScript } from '../engine/redis-scripts.js'
import type { Occupancy, OccupancyChange } from './occupancy.js'

/**
 * Key layout (`<p>` = key prefix; `{<appId>}` as in the broker's keys):
 * ```
 * <p>:{<appId>}:k:<key>   hash  nodeId -> how many holders on that node
 * <p>:node:<nodeId>       set   `<appId>|<key>` this node holds
 * <p>:nodes               zset  nodeId -> expiry (ms, Redis time), pushed forward by heartbeats
 * ```
 * App ids never contain `|`, so `<appId>|<key>` splits at the first one.
 */
const NOW_MS = `local __t = redis.call('TIME')
local now = tonumber(__t[1]) * 1000 + math.floor(tonumber(__t[2]) / 1000)`

const SUM = `local function total(h)
  local v = redis.call('HVALS', h)
  local n = 0
  for i = 1, #v do n = n + tonumber(v[i]) end
  return n
end`

/** KEYS: hash, node set, nodes zset. ARGV: nodeId, member, ttlMs, count to add. Reply: {edge, total}. */
const ENTER = new LuaScript(`
${NOW_MS}
${SUM}
redis.call('ZADD', KEYS[3], now + tonumber(ARGV[3]), ARGV[1])
local before = total(KEYS[1])
local c = redis.call('HINCRBY', KEYS[1], ARGV[1], tonumber(ARGV[4]))
if c <= 0 then redis.call('HDEL', KEYS[1], ARGV[1]) else redis.call('SADD', KEYS[2], ARGV[2]) end
local after = total(KEYS[1])
if before == 0 and after > 0 then return {1, after} end
return {0, after}
`)

/**
 * KEYS: hash, node set. ARGV: nodeId, member. Reply: {edge, total}. A leave of a holding that
 * is not there (a sweep already took it: this node was thought dead) changes nothing.
 */
const LEAVE = new LuaScript(`
${SUM}
local c = tonumber(redis.call('HGET', KEYS[1], ARGV[1]) or '0')
if c <= 0 then return {0, total(KEYS[1])} end
if c == 1 then
  redis.call('HDEL', KEYS[1], ARGV[1])
  redis.call('SREM', KEYS[2], ARGV[2])
else
  redis.call('HINCRBY', KEYS[1], ARGV[1], -1)
end
local after = total(KEYS[1])
if after == 0 then return {1, 0} end
return {0, after}
`)

/**
 * Takes up to ARGV[2] holdings of one dead node (ARGV[3] when set, else the first whose expiry
 * passed) and returns the members it left with no holder. KEYS: nodes zset. ARGV: prefix, limit, node.
 * The node is forgotten once it holds nothing. Atomic: each empty key is returned to one caller.
 */
const SWEEP = new LuaScript(`
${NOW_MS}
local prefix = ARGV[1]
local node = ARGV[3]
if node == '' then
  local dead = redis.call('ZRANGEBYSCORE', KEYS[1], '-inf', now, 'LIMIT', 0, 1)
  if #dead == 0 then return {} end
  node = dead[1]
end
local set = prefix .. ':node:' .. node
local members = redis.call('SPOP', set, tonumber(ARGV[2]))
local gone = {}
for _, m in ipairs(members) do
  local sep = string.find(m, '|', 1, true)
  if sep then
    local h = prefix .. ':{' .. string.sub(m, 1, sep - 1) .. '}:k:' .. string.sub(m, sep + 1)
    redis.call('HDEL', h, node)
    if redis.call('HLEN', h) == 0 then table.insert(gone, m) end
  end
end
if redis.call('SCARD', set) == 0 then
  if ARGV[3] == '' then redis.call('ZREM', KEYS[1], node) end
  return {'done', unpack(gone)}
end
return {'more', unpack(gone)}
`)

/** KEYS: nodes zset. ARGV: nodeId, ttlMs. Reply: 1 when the node was not there (it had been swept). */
const HEARTBEAT = new LuaScript(`
${NOW_MS}
return redis.call('ZADD', KEYS[1], now + tonumber(ARGV[2]), ARGV[1])
`)

export interface RedisOccupancyOptions {
  url: string
  nodeId: string
  /** Default `herald:occ`. */
  keyPrefix?: string
  /** A node's holdings expire this long after its last heartbeat (heartbeats every third of it). */
  ttlMs: number
  onError?: (err: unknown) => void
}

/**
 * Cluster-wide occupancy in Redis: one Lua script per enter/leave decides the 0→1 and 1→0
 * edges over all nodes atomically; heartbeats keep this node's holdings alive and every node
 * sweeps dead nodes' holdings, reporting each key left empty once.
 */
export class RedisOccupancy implements Occupancy {
  private readonly redis: Redis
  private readonly prefix: string
  private readonly local = new Map<string, number>()
  private timer: NodeJS.Timeout | null = null
  private onGone: (appId: string, key: string) => void = () => {}
  private onRestored: (appId: string, key: string, count: number) => void = () => {}
  private ticking: Promise<void> | null = null

  constructor(private readonly options: RedisOccupancyOptions) {
    this.redis = new Redis(options.url, {
      lazyConnect: true,
      maxRetriesPerRequest: 2,
      enableOfflineQueue: true,
      connectionName: `herald-occupancy-${options.nodeId}`,
    })
    this.redis.on('error', (err) => options.onError?.(err))
    this.prefix = options.keyPrefix ?? 'herald:occ'
  }

  private hash(appId: string, key: string): string {
    return `${this.prefix}:{${appId}}:k:${key}`
  }

  private nodeSet(nodeId = this.options.nodeId): string {
    return `${this.prefix}:node:${nodeId}`
  }

  private nodes(): string {
    return `${this.prefix}:nodes`
  }

  async start(onGone: (appId: string, key: string) => void, onRestored?: (appId: string, key: string, count: number) => void): Promise<void> {
    this.onGone = onGone
    if (onRestored) this.onRestored = onRestored
    await this.redis.connect()
    // What this node id held in a previous run (a crash, then a restart) is gone now.
    await this.sweepNode(this.options.nodeId)
    await HEARTBEAT.run(this.redis, [this.nodes()], [this.options.nodeId, this.options.ttlMs])
    this.timer = setInterval(
      () => {
        if (!this.ticking) void this.tick()
      },
      Math.max(50, Math.floor(this.options.ttlMs / 3)),
    )
    this.timer.unref()
  }

  async enter(appId: string, key: string): Promise<OccupancyChange> {
    const k = appId + '|' + key
    this.local.set(k, (this.local.get(k) ?? 0) + 1)
    const [edge, count] = (await ENTER.run(
      this.redis,
      [this.hash(appId, key), this.nodeSet(), this.nodes()],
      [this.options.nodeId, k, this.options.ttlMs, 1],
    )) as [number, number]
    return { edge: edge === 1, count }
  }

  async leave(appId: string, key: string): Promise<OccupancyChange> {
    const k = appId + '|' + key
    const n = (this.local.get(k) ?? 0) - 1
    if (n <= 0) this.local.delete(k)
    else this.local.set(k, n)
    const [edge, count] = (await LEAVE.run(this.redis, [this.hash(appId, key), this.nodeSet()], [this.options.nodeId, k])) as [number, number]
    return { edge: edge === 1, count }
  }

  async forgetApp(appId: string): Promise<void> {
    for (const k of [...this.local.keys()]) {
      if (!k.startsWith(appId + '|')) continue
      this.local.delete(k)
      await this.redis
        .multi()
        .hdel(this.hash(appId, k.slice(appId.length + 1)), this.options.nodeId)
        .srem(this.nodeSet(), k)
        .exec()
    }
  }

  /**
   * Heartbeat (re-asserting holdings if this node had been swept), then a sweep of dead nodes.
   * Calls run one after the other, each a whole tick. Public for tests.
   */
  tick(): Promise<void> {
    const run = (this.ticking ?? Promise.resolve()).then(() => this.tickOnce())
    this.ticking = run
    void run.then(() => {
      if (this.ticking === run) this.ticking = null
    })
    return run
  }

  private async tickOnce(): Promise<void> {
    try {
      const wasGone = (await HEARTBEAT.run(this.redis, [this.nodes()], [this.options.nodeId, this.options.ttlMs])) === 1
      if (wasGone) await this.reassert()
      for (let round = 0; round < 100; round++) {
        const [state] = await this.sweepOnce('')
        if (state !== 'more' && state !== 'done') return
      }
    } catch (err) {
      this.options.onError?.(err)
    }
  }

  async stop(): Promise<void> {
    if (this.timer) clearInterval(this.timer)
    this.timer = null
    this.redis.disconnect()
  }

  private async reassert(): Promise<void> {
    for (const [k, count] of this.local) {
      const sep = k.indexOf('|')
      const appId = k.slice(0, sep)
      const key = k.slice(sep + 1)
      const hash = this.hash(appId, key)
      // Swept holdings were removed; put this node's count back as it is now.
      await this.redis.hdel(hash, this.options.nodeId)
      const [edge, total] = (await ENTER.run(this.redis, [hash, this.nodeSet(), this.nodes()], [this.options.nodeId, k, this.options.ttlMs, count])) as [
        number,
        number,
      ]
      if (edge === 1) this.onRestored(appId, key, total)
    }
  }

  private async sweepNode(nodeId: string): Promise<void> {
    for (let round = 0; round < 10_000; round++) {
      const [state] = await this.sweepOnce(nodeId)
      if (state !== 'more') return
    }
  }

  private async sweepOnce(nodeId: string): Promise<[string | undefined]> {
    const reply = (await SWEEP.run(this.redis, [this.nodes()], [this.prefix, 200, nodeId])) as string[]
    const [state, ...gone] = reply
    for (const m of gone) {
      const sep = m.indexOf('|')
      this.onGone(m.slice(0, sep), m.slice(sep + 1))
    }
    return [state]
  }
}
