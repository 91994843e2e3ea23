import type { Redis } from 'ioredis'
import type { AppClusterState, NodeState } from './broker.js'
import type { ClusterState } from './cluster-state.js'
import { createRedis, quit, type RedisClientOptions } from './redis-client.js'
import { RedisKeys } from './redis-keys.js'

export interface RedisClusterStateOptions extends RedisClientOptions {
  /** This node's unique id (its snapshot key). */
  nodeId: string
  /** Prefix of every key. Default `herald`. */
  keyPrefix?: string
  /** How often this node's counters are shared. Default 1000 ms. */
  intervalMs?: number
  /** Errors of background reports. */
  onError?: (err: unknown) => void
}

/**
 * Cluster state on Redis: every node writes its {@link NodeState} snapshot (expiring), any
 * node sums them for an app.
 *
 * @example
 * const state = new RedisClusterState({ url: 'redis://127.0.0.1:6379', nodeId: 'node-1' })
 * await state.start(() => hub.localState())
 */
export class RedisClusterState implements ClusterState {
  readonly driver = 'redis'
  private readonly cmd: Redis
  private reporter: NodeStateReporter | null = null

  constructor(private readonly options: RedisClusterStateOptions) {
    this.cmd = createRedis(options, `herald-state-${options.nodeId}`)
    this.cmd.on('error', options.onError ?? (() => {}))
  }

  async start(localState: () => NodeState): Promise<void> {
    await this.cmd.connect()
    const o = this.options
    this.reporter = new NodeStateReporter(this.cmd, new RedisKeys(o.keyPrefix ?? 'herald'), o.nodeId, localState, o.intervalMs ?? 1000, o.onError ?? (() => {}))
    await this.reporter.start()
  }

  async appState(appId: string): Promise<AppClusterState> {
    if (!this.reporter) throw new Error('RedisClusterState is not started')
    return this.reporter.appState(appId)
  }

  async close(): Promise<void> {
    const reporter = this.reporter
    this.reporter = null
    if (reporter) await reporter.stop().catch(this.options.onError ?? (() => {}))
    await quit(this.cmd)
  }
}

/**
 * Shares each node's {@link NodeState} through Redis: a snapshot per node under a key that
 * expires after `ttlMs`, written every `intervalMs`; a zset lists the node ids.
 */
class NodeStateReporter {
  private timer: NodeJS.Timeout | null = null

  constructor(
    private readonly redis: Redis,
    private readonly keys: RedisKeys,
    private readonly nodeId: string,
    private readonly localState: () => NodeState,
    private readonly intervalMs: number,
    private readonly onError: (err: unknown) => void,
  ) {}

  private get ttlMs(): number {
    return Math.max(5000, this.intervalMs * 5)
  }

  async start(): Promise<void> {
    await this.report()
    this.timer = setInterval(() => this.report().catch(this.onError), this.intervalMs)
    this.timer.unref()
  }

  async stop(): Promise<void> {
    if (this.timer) clearInterval(this.timer)
    this.timer = null
    await this.redis.multi().del(this.keys.nodeState(this.nodeId)).zrem(this.keys.nodes(), this.nodeId).exec()
  }

  async report(): Promise<void> {
    await this.redis
      .multi()
      .set(this.keys.nodeState(this.nodeId), JSON.stringify(this.localState()), 'PX', this.ttlMs)
      .zadd(this.keys.nodes(), String(Date.now()), this.nodeId)
      .exec()
  }

  /** Sums the live snapshots of every node for one app (this node's taken fresh). */
  async appState(appId: string): Promise<AppClusterState> {
    const total: AppClusterState = { connections: 0, channels: {}, published: 0, delivered: 0, nodes: 1 }
    add(total, this.localState()[appId])
    const ids = (await this.redis.zrange(this.keys.nodes(), '0', '-1')).filter((id) => id !== this.nodeId)
    if (ids.length === 0) return total
    const snapshots = await this.redis.mget(ids.map((id) => this.keys.nodeState(id)))
    const dead: string[] = []
    snapshots.forEach((json, i) => {
      if (json === null) {
        dead.push(ids[i]!)
        return
      }
      total.nodes++
      add(total, (JSON.parse(json) as NodeState)[appId])
    })
    if (dead.length > 0) await this.redis.zrem(this.keys.nodes(), ...dead)
    return total
  }
}

function add(total: AppClusterState, app: NodeState[string] | undefined): void {
  if (!app) return
  total.connections += app.connections
  total.published += app.published
  total.delivered += app.delivered
  for (const [ch, n] of Object.entries(app.channels)) total.channels[ch] = (total.channels[ch] ?? 0) + n
}
