import { Redis } from 'ioredis'

/** Options every Redis driver shares. */
export interface RedisClientOptions {
  /** `redis://[:password@]host:port[/db]` */
  url: string
  /** Commands fail after this long instead of hanging. Default 5000 ms. */
  commandTimeoutMs?: number
}

/** A lazily connecting client that fails fast (no offline queue) and reconnects with backoff. */
export function createRedis(options: RedisClientOptions, connectionName: string, extra: { autoResubscribe?: boolean } = {}): Redis {
  return new Redis(options.url, {
    lazyConnect: true,
    enableOfflineQueue: false,
    maxRetriesPerRequest: 1,
    commandTimeout: options.commandTimeoutMs ?? 5000,
    connectTimeout: 5000,
    retryStrategy: (times: number) => Math.min(100 * 2 ** times, 2000),
    connectionName,
    ...extra,
  })
}

/** Closes a client politely when it is connected, at once otherwise. */
export async function quit(client: Redis): Promise<void> {
  if (client.status === 'end') return
  try {
    if (client.status === 'ready') await client.quit()
    else client.disconnect()
  } catch {
    client.disconnect()
  }
}
