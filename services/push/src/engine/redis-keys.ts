/**
 * The Redis key layout of the Redis drivers (broker, presence, cluster state). Tenant first, one key space per kind;
 * `{appId}` is a hash tag, so all keys of one app live in one Redis Cluster slot.
 *
 * ```
 * <prefix>:{<appId>}:meta:<channel>         hash  epoch, seq, ttl           (expires: historyTtl)
 * <prefix>:{<appId>}:hist:<channel>         list  message JSON, oldest first (expires: historyTtl)
 * <prefix>:{<appId>}:idem:<channel>|<id>    string first message JSON        (expires: 120 s)
 * <prefix>:{<appId>}:pres:<channel>         hash  connectionId -> member JSON
 * <prefix>:{<appId>}:presc:<channel>        hash  clientId -> connection count
 * <prefix>:{<appId>}:msg:<channel>          pub/sub: message JSON, or `p` + presence event JSON
 * <prefix>:presence-expiry                  zset  `<appId>|<channel>|<connectionId>` -> expiry (ms)
 * <prefix>:nodes                            zset  nodeId -> last report (ms)
 * <prefix>:node:<nodeId>:state              string NodeState JSON            (expires: a few s)
 * ```
 * Channel names never contain `|`, so `<channel>|<id>` cannot collide across channels.
 */
export class RedisKeys {
  constructor(readonly prefix: string) {}

  private app(appId: string): string {
    return `${this.prefix}:{${appId}}`
  }

  meta(appId: string, channel: string): string {
    return `${this.app(appId)}:meta:${channel}`
  }

  history(appId: string, channel: string): string {
    return `${this.app(appId)}:hist:${channel}`
  }

  idempotency(appId: string, channel: string, id: string): string {
    return `${this.app(appId)}:idem:${channel}|${id}`
  }

  presence(appId: string, channel: string): string {
    return `${this.app(appId)}:pres:${channel}`
  }

  presenceCounts(appId: string, channel: string): string {
    return `${this.app(appId)}:presc:${channel}`
  }

  /** The pub/sub channel carrying a channel's messages and presence events. */
  pubsub(appId: string, channel: string): string {
    return `${this.app(appId)}:msg:${channel}`
  }

  /** A SCAN pattern matching every key of the app. */
  appPattern(appId: string): string {
    return `${this.app(appId).replace(/[*?[\]\\]/g, (c) => '\\' + c)}:*`
  }

  /** A SCAN pattern matching the app's presence keys (`pres:` and `presc:`). */
  presencePattern(appId: string): string {
    return `${this.app(appId).replace(/[*?[\]\\]/g, (c) => '\\' + c)}:pres*`
  }

  presenceExpiry(): string {
    return `${this.prefix}:presence-expiry`
  }

  /** Member of {@link presenceExpiry}: `appId|channel|connectionId`. */
  presenceEntry(appId: string, channel: string, connectionId: string): string {
    return `${appId}|${channel}|${connectionId}`
  }

  parsePresenceEntry(entry: string): { appId: string; channel: string; connectionId: string } | null {
    const a = entry.indexOf('|')
    const b = a < 0 ? -1 : entry.indexOf('|', a + 1)
    if (b < 0) return null
    return { appId: entry.slice(0, a), channel: entry.slice(a + 1, b), connectionId: entry.slice(b + 1) }
  }

  nodes(): string {
    return `${this.prefix}:nodes`
  }

  nodeState(nodeId: string): string {
    return `${this.prefix}:node:${nodeId}:state`
  }
}
