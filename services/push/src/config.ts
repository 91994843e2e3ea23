import { resolve } from 'node:path'
import { z } from 'zod'
import { parseEnv } from './env.js'
import { streamOptionsFromEnv, type StreamOptions } from './protocols/herald/stream-options.js'

const Env = z.object({
  HERALD_HOST: z.string().default('127.0.0.1'),
  HERALD_PORT: z.coerce.number().int().min(0).max(65535).default(8080),
  HERALD_DATA_DIR: z.string().default('./data'),
  HERALD_ADMIN_TOKEN: z.string().min(16, 'HERALD_ADMIN_TOKEN must be at least 16 characters').optional(),
  HERALD_MASTER_KEY: z.string().optional(),
  HERALD_LOG_LEVEL: z.enum(['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent']).default('info'),
  HERALD_REDIS_URL: z.string().url().optional(),
  HERALD_DATABASE_URL: z.string().optional(),
  HERALD_NODE_ID: z.string().optional(),
  HERALD_HEARTBEAT_SECONDS: z.coerce.number().int().min(1).max(300).default(25),
  HERALD_PRESENCE_TTL_SECONDS: z.coerce.number().int().min(3).max(600).default(30),
  HERALD_MAX_FRAME_BYTES: z.coerce.number().int().min(1024).max(16_777_216).default(1_048_576),
  HERALD_MAX_SUBSCRIPTIONS_PER_CONNECTION: z.coerce.number().int().min(1).max(100_000).default(200),
  HERALD_SEND_BUFFER_BYTES: z.coerce.number().int().min(16_384).default(4_194_304),
  HERALD_SHUTDOWN_GRACE_MS: z.coerce.number().int().min(0).max(60_000).default(5_000),
})

/** Everything a node needs, from the environment, typed and validated once. */
export interface Config {
  host: string
  port: number
  dataDir: string
  adminToken?: string
  masterKey?: string
  logLevel: string
  redisUrl?: string
  databaseUrl?: string
  nodeId?: string
  /** Seconds between server pings; a peer silent for two intervals is dropped. */
  heartbeatSeconds: number
  presenceTtlSeconds: number
  maxFrameBytes: number
  maxSubscriptionsPerConnection: number
  /** Bytes queued for one client past which it is closed as a slow consumer (`CloseCodes.rateLimited`). */
  sendBufferBytes: number
  shutdownGraceMs: number
  /** SSE and long-poll tunables (`HERALD_SSE_PING_SECONDS`, `HERALD_SSE_MAX_STREAM_SECONDS`, `HERALD_SSE_RETRY_MS`). */
  streams: StreamOptions
}

/** Reads the configuration; throws a readable error naming the bad variable. */
export function loadConfig(env: NodeJS.ProcessEnv = process.env): Config {
  const e = parseEnv(Env, env)
  return {
    host: e.HERALD_HOST,
    port: e.HERALD_PORT,
    dataDir: resolve(e.HERALD_DATA_DIR),
    adminToken: e.HERALD_ADMIN_TOKEN,
    masterKey: e.HERALD_MASTER_KEY,
    logLevel: e.HERALD_LOG_LEVEL,
    redisUrl: e.HERALD_REDIS_URL,
    databaseUrl: e.HERALD_DATABASE_URL,
    nodeId: e.HERALD_NODE_ID,
    heartbeatSeconds: e.HERALD_HEARTBEAT_SECONDS,
    presenceTtlSeconds: e.HERALD_PRESENCE_TTL_SECONDS,
    maxFrameBytes: e.HERALD_MAX_FRAME_BYTES,
    maxSubscriptionsPerConnection: e.HERALD_MAX_SUBSCRIPTIONS_PER_CONNECTION,
    sendBufferBytes: e.HERALD_SEND_BUFFER_BYTES,
    shutdownGraceMs: e.HERALD_SHUTDOWN_GRACE_MS,
    streams: streamOptionsFromEnv(env),
  }
}
