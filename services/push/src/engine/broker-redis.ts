import type { Message, Position, PresenceEvent } from '@herald/protocol'
import type { Redis } from 'ioredis'
import { HeraldError } from '../errors.js'
import {
  IDEMPOTENCY_WINDOW_MS,
  type Broker,
  type BrokerHandler,
  type ChannelOptions,
  type NodeState,
  type PublishInput,
  type PublishOutcome,
  type RecoverResult,
} from './broker.js'
import { newEpoch, newMessageId } from './broker-ids.js'
import { recoverFrom, retained, selectHistory } from './broker-window.js'
import { createRedis, quit } from './redis-client.js'
import { RedisKeys } from './redis-keys.js'
import { PUBLISH_SCRIPT, READ_SCRIPT } from './redis-scripts.js'

export interface RedisBrokerOptions {
  /** `redis://[:password@]host:port[/db]` */
  url: string
  /** This node's unique id (state snapshots, connection names). */
  nodeId: string
  /** Prefix of every key and pub/sub channel. Default `herald`. */
  keyPrefix?: string
  /** Commands fail after this long instead of hanging. Default 5000 ms. */
  commandTimeoutMs?: number
  /** Errors of background work (heartbeats, sweeps, state reports, bad payloads). */
  onError?: (err: unknown) => void
}

/** TTL of a channel's meta hash made by a read before any publish (the app default TTL). */
const DEFAULT_TTL_SECONDS = 3600

/**
 * The multi-node broker on Redis. One Lua script per publish does idempotency, seq, history
 * and PUBLISH atomically; each node holds one subscriber connection and SUBSCRIBEs only to
 * channels its local clients use. A lost meta hash (expiry, restart, FLUSHALL) becomes a new
 * epoch with seq from 1, never a silent gap.
 *
 * @example
 * const broker = new RedisBroker({ url: 'redis://127.0.0.1:6379', nodeId: 'node-1' })
 * await broker.start(hub)
 */
export class RedisBroker implements Broker {
  readonly driver = 'redis' as const
  private readonly keys: RedisKeys
  private readonly cmd: Redis
  private readonly sub: Redis
  private handler: BrokerHandler | null = null
  /** pub/sub channel -> the app it belongs to */
  private readonly subscribed = new Map<string, string>()
  private readonly onError: (err: unknown) => void

  constructor(options: RedisBrokerOptions) {
    this.keys = new RedisKeys(options.keyPrefix ?? 'herald')
    this.onError = options.onError ?? (() => {})
    this.cmd = createRedis(options, `herald-cmd-${options.nodeId}`)
    this.sub = createRedis(options, `herald-sub-${options.nodeId}`, { autoResubscribe: true })
    this.cmd.on('error', this.onError)
    this.sub.on('error', this.onError)
    this.sub.on('message', (channel: string, payload: string) => this.dispatch(channel, payload))
  }

  /** `localState` is not used: cluster state has its own driver. */
  async start(handler: BrokerHandler, _localState?: () => NodeState): Promise<void> {
    this.handler = handler
    try {
      await Promise.all([this.cmd.connect(), this.sub.connect()])
    } catch (err) {
      await this.close()
      throw err
    }
  }

  async publish(appId: string, inputs: PublishInput[], options: ChannelOptions): Promise<PublishOutcome[]> {
    if (inputs.length === 0) return []
    const rate = options.publishRatePerSecond ?? 0
    const keys: string[] = [this.keys.rateBucket(appId)]
    const args: (string | number)[] = [
      inputs.length,
      Math.max(0, Math.floor(options.historySize)),
      Math.max(1, Math.ceil(options.historyTtlSeconds)),
      IDEMPOTENCY_WINDOW_MS,
      Math.max(0, rate),
    ]
    const ts = Date.now()
    for (const input of inputs) {
      keys.push(this.keys.meta(appId, input.channel), this.keys.history(appId, input.channel))
      if (input.id !== undefined) keys.push(this.keys.idempotency(appId, input.channel, input.id))
      const { head, tail } = messageJsonParts(input, ts)
      const prefix = input.exclude === undefined ? '' : 'x' + JSON.stringify(input.exclude) + '\n'
      args.push(input.id !== undefined ? '1' : '0', newEpoch(), this.keys.pubsub(appId, input.channel), head, tail, prefix)
    }
    const reply = (await PUBLISH_SCRIPT.run(this.cmd, keys, args)) as string[]
    if (reply[0] === 'rate') {
      throw new HeraldError('rate_limited', `over ${rate} messages per second (for the app, over every node)`, Number(reply[1]))
    }
    const outcomes: PublishOutcome[] = []
    for (let i = 0; i < reply.length; i += 2) {
      outcomes.push({ duplicate: reply[i] === '1', message: JSON.parse(reply[i + 1]!) as Message })
    }
    return outcomes
  }

  async subscribe(appId: string, channel: string): Promise<void> {
    const name = this.keys.pubsub(appId, channel)
    this.subscribed.set(name, appId)
    try {
      await this.sub.subscribe(name)
    } catch (err) {
      this.subscribed.delete(name)
      throw err
    }
  }

  async unsubscribe(appId: string, channel: string): Promise<void> {
    const name = this.keys.pubsub(appId, channel)
    this.subscribed.delete(name)
    await this.sub.unsubscribe(name)
  }

  async position(appId: string, channel: string): Promise<Position> {
    const { position } = await this.read(appId, channel, ['pos'])
    return position
  }

  async history(appId: string, channel: string, query: { limit: number; after?: number }): Promise<{ epoch: string; messages: Message[] }> {
    const limit = Math.max(0, Math.floor(query.limit))
    if (query.after === undefined) {
      const r = await this.read(appId, channel, ['latest', limit])
      return { epoch: r.position.epoch, messages: selectHistory(r.live, query) }
    }
    const r = await this.read(appId, channel, ['after', query.after, limit])
    if (r.live.length === r.stored) return { epoch: r.position.epoch, messages: selectHistory(r.live, query) }
    // Part of the slice expired: answer from the whole retained history instead.
    const all = await this.read(appId, channel, ['all'])
    return { epoch: all.position.epoch, messages: selectHistory(all.live, query) }
  }

  async recover(appId: string, channel: string, since: Position, limit: number): Promise<RecoverResult> {
    const r = await this.read(appId, channel, ['since', Math.max(0, Math.floor(since.seq)), Math.max(0, Math.floor(limit))])
    return recoverFrom(r.position, r.live, since, limit)
  }

  async removeApp(appId: string): Promise<void> {
    let cursor = '0'
    do {
      const [next, found] = await this.cmd.scan(cursor, 'MATCH', this.keys.appPattern(appId), 'COUNT', 1000)
      cursor = next
      if (found.length > 0) await this.cmd.unlink(...found)
    } while (cursor !== '0')
  }

  async ping(): Promise<void> {
    let timer: NodeJS.Timeout | undefined
    const timeout = new Promise<never>((_, reject) => {
      timer = setTimeout(() => reject(new Error('redis ping timed out')), 2000)
    })
    try {
      await Promise.race([this.cmd.ping(), timeout])
    } finally {
      clearTimeout(timer)
    }
  }

  async close(): Promise<void> {
    this.handler = null
    this.subscribed.clear()
    await Promise.all([quit(this.cmd), quit(this.sub)])
  }

  private async read(appId: string, channel: string, mode: (string | number)[]): Promise<{ position: Position; live: Message[]; stored: number }> {
    const reply = (await READ_SCRIPT.run(
      this.cmd,
      [this.keys.meta(appId, channel), this.keys.history(appId, channel)],
      [newEpoch(), DEFAULT_TTL_SECONDS, ...mode],
    )) as string[]
    const position = { epoch: reply[0]!, seq: Number(reply[1]) }
    const ttl = Number(reply[2])
    const stored = reply.slice(3).map((json) => JSON.parse(json) as Message)
    return { position, live: retained(stored, position.epoch, ttl, Date.now()), stored: stored.length }
  }

  private dispatch(name: string, payload: string): void {
    const appId = this.subscribed.get(name)
    const handler = this.handler
    if (appId === undefined || !handler) return
    try {
      if (payload.startsWith('p')) handler.onPresence(appId, JSON.parse(payload.slice(1)) as PresenceEvent)
      else if (payload.startsWith('x')) {
        // `x<JSON session id>\n<message JSON>`: published with an exclusion.
        const cut = payload.indexOf('\n')
        const json = payload.slice(cut + 1)
        handler.onMessage(appId, JSON.parse(json) as Message, json, JSON.parse(payload.slice(1, cut)) as string)
      } else handler.onMessage(appId, JSON.parse(payload) as Message, payload)
    } catch (err) {
      this.onError(err)
    }
  }
}

/**
 * The message JSON around `seq` and `epoch`, which only the script knows:
 * `head` + seq + `,"epoch":"` + epoch + `"` + `tail`, in the contract's field order.
 */
function messageJsonParts(input: PublishInput, ts: number): { head: string; tail: string } {
  const id = input.id ?? newMessageId()
  const head = `{"channel":${JSON.stringify(input.channel)},"id":${JSON.stringify(id)},"seq":`
  let tail = ''
  if (input.name !== undefined) tail += `,"name":${JSON.stringify(input.name)}`
  tail += `,"data":${input.dataJson ?? JSON.stringify(input.data) ?? 'null'},"ts":${ts}`
  if (input.clientId !== undefined) tail += `,"clientId":${JSON.stringify(input.clientId)}`
  return { head, tail: tail + '}' }
}
