import { createServer, type Server } from 'node:http'
import { randomBytes } from 'node:crypto'
import { join } from 'node:path'
import { getRequestListener } from '@hono/node-server'
import { CloseCodes } from '@herald/protocol'
import { adminTokenMatches, ensureAdminToken } from './apps/admin-token.js'
import type { AppStore } from './apps/app-store.js'
import { loadMasterKey, verifyMasterKey } from './apps/master-key.js'
import { openAppStore } from './apps/open-store.js'
import { AppRegistry } from './apps/registry.js'
import { SecretBox } from './apps/secret-box.js'
import type { Config } from './config.js'
import type { NodeContext } from './context.js'
import type { ControlBus, ControlEvent } from './control/control-bus.js'
import { MemoryControlBus } from './control/control-bus-memory.js'
import type { Broker } from './engine/broker.js'
import { MemoryBroker } from './engine/broker-memory.js'
import type { ClusterState } from './engine/cluster-state.js'
import { MemoryClusterState } from './engine/cluster-state-memory.js'
import { Engine, type EngineDrivers } from './engine/engine.js'
import type { PresenceManager } from './engine/presence.js'
import { MemoryPresence } from './engine/presence-memory.js'
import { createHttpApp } from './http/app.js'
import { publishFastPath } from './http/publish-fast.js'
import { createLogger, type Logger } from './logger.js'
import { MemoryOccupancy } from './webhooks/occupancy-memory.js'
import { RedisOccupancy } from './webhooks/occupancy-redis.js'
import type { Outbox } from './webhooks/outbox.js'
import { Webhooks } from './webhooks/webhooks.js'
import { Metrics } from './metrics.js'
import { attachUpgrades, type ProtocolFactory } from './http/protocols.js'
import { heraldProtocol } from './protocols/herald/protocol.js'
import { pusherHttpProtocol } from './protocols/pusher/http-protocol.js'
import { pusherSocketProtocol } from './protocols/pusher/socket-protocol.js'
import { terminateUser } from './protocols/pusher/terminate.js'
import { lockDatabaseFile } from './sqlite-file.js'

/** Webhook outbox drivers, beside the app store in its database. */
const outboxes: Record<AppStore['driver'], (config: Config, logger: Logger) => Promise<Outbox>> = {
  sqlite: async (config) => {
    const { createSqliteOutbox } = await import('./webhooks/outbox-sqlite.js')
    return createSqliteOutbox({ file: join(config.dataDir, 'herald.db') })
  },
  postgres: async (config, logger) => {
    const { createPostgresOutbox } = await import('./webhooks/outbox-postgres.js')
    return createPostgresOutbox({ url: config.databaseUrl!, onError: (err) => logger.warn({ err }, 'webhook outbox connection error') })
  },
}

/**
 * Engine and control-bus drivers: in process by default, with history in the data dir's SQLite
 * file (`HERALD_HISTORY=memory`: in memory); Redis when HERALD_REDIS_URL is set.
 */
type Drivers = EngineDrivers & { control: ControlBus }
interface DriverHooks {
  /** Control events may have been missed (Redis reconnected). */
  onResubscribed: () => void
  /** Whether the node's presence (whichever driver it is) has members on the channel. */
  present: (appId: string, channel: string) => boolean
}
const engines: Record<string, (config: Config, nodeId: string, logger: Logger, hooks: DriverHooks) => Promise<Drivers>> = {
  memory: async (_config, _nodeId, _logger, hooks) => {
    return {
      broker: new MemoryBroker({ inUse: hooks.present }),
      presence: new MemoryPresence(),
      clusterState: new MemoryClusterState(),
      control: new MemoryControlBus(),
    }
  },
  sqlite: async (config, _nodeId, logger, hooks) => {
    const { openSqliteBroker } = await import('./engine/broker-sqlite.js')
    const file = join(config.dataDir, 'herald.db')
    const onCheckpointError = (message: string) => logger.warn({ file, error: message }, 'WAL checkpoint failed')
    return {
      broker: openSqliteBroker({ file, synchronous: config.sqliteSynchronous, onCheckpointError, inUse: hooks.present }),
      presence: new MemoryPresence(),
      clusterState: new MemoryClusterState(),
      control: new MemoryControlBus(),
    }
  },
  redis: async (config, nodeId, logger, { onResubscribed }) => {
    const [{ RedisBroker }, { RedisPresenceManager }, { RedisClusterState }, { RedisControlBus }] = await Promise.all([
      import('./engine/broker-redis.js'),
      import('./engine/presence-redis.js'),
      import('./engine/cluster-state-redis.js'),
      import('./control/control-bus-redis.js'),
    ])
    const url = config.redisUrl!
    return {
      broker: new RedisBroker({ url, nodeId, onError: (err) => logger.warn({ err }, 'redis broker error') }),
      presence: new RedisPresenceManager({
        url,
        nodeId,
        ttlMs: config.presenceTtlSeconds * 1000,
        onError: (err) => logger.warn({ err }, 'redis presence error'),
      }),
      clusterState: new RedisClusterState({ url, nodeId, onError: (err) => logger.warn({ err }, 'redis cluster state error') }),
      control: new RedisControlBus({
        url,
        nodeId,
        onError: (err) => logger.warn({ err }, 'control bus error'),
        onResubscribed: () => onResubscribed(),
      }),
    }
  },
}

/**
 * Drivers a test or an embedder injects instead of the ones the Config picks. Each one given
 * is used as is (and closed on shutdown); the rest come from the Config.
 */
export interface NodeDeps {
  logger?: Logger
  /** The app store (control plane); default: SQLite in the data dir, or HERALD_DATABASE_URL. */
  store?: AppStore
  /** Pub/sub and history; default: in process, or Redis with HERALD_REDIS_URL. */
  broker?: Broker
  /** Presence; default: in process, or Redis with HERALD_REDIS_URL. */
  presence?: PresenceManager
  /** Cluster-wide counters; default: in process, or Redis with HERALD_REDIS_URL. */
  clusterState?: ClusterState
  /** Control events (app/key changes) between nodes; default: in process, or Redis. */
  control?: ControlBus
  /** The webhook outbox; default: tables in the app store's database. */
  outbox?: Outbox
  /** The client protocols the node serves; default {@link PROTOCOLS}. */
  protocols?: ProtocolFactory[]
}

/** The client protocols a node serves by default; a new protocol adds its factory here. */
export const PROTOCOLS: ProtocolFactory[] = [heraldProtocol, pusherHttpProtocol, pusherSocketProtocol]

export interface HeraldNode {
  readonly ctx: NodeContext
  readonly server: Server
  /** Listens on the configured host and port; resolves with the bound port. */
  start(): Promise<number>
  /** Drains: refuses new connections, closes clients with `CloseCodes.goingAway`, answers held polls, closes stores. */
  shutdown(): Promise<void>
}

/**
 * Wires a node: app store, broker, hub, transports and HTTP routes, from one Config.
 *
 * @example
 * const node = await createNode(loadConfig())
 * await node.start()
 * process.on('SIGTERM', () => node.shutdown().then(() => process.exit(0)))
 */
export async function createNode(config: Config, deps: NodeDeps = {}): Promise<HeraldNode> {
  const logger = deps.logger ?? createLogger(config.logLevel)
  const nodeId = config.nodeId ?? 'n_' + randomBytes(6).toString('hex')
  const master = loadMasterKey({ env: config.masterKey, dataDir: config.dataDir })
  if (master.source === 'generated') logger.warn({ file: master.file }, 'generated a master key for secrets at rest: back it up, or set HERALD_MASTER_KEY')
  const secretBox = new SecretBox(master.key)

  const brokerDriver = config.redisUrl ? 'redis' : config.history
  // One process per database file: a second one would assign the same seqs twice.
  const usesFile = (!deps.store && !config.databaseUrl) || (!deps.broker && brokerDriver === 'sqlite')
  const unlock = usesFile ? lockDatabaseFile(join(config.dataDir, 'herald.db')) : () => {}
  const store =
    deps.store ?? (await openAppStore({ dataDir: config.dataDir, databaseUrl: config.databaseUrl, secretBox, synchronous: config.sqliteSynchronous }))
  await store.migrate()
  await verifyMasterKey(store, secretBox)

  const admin = await ensureAdminToken(store, config.adminToken)
  if (admin.token) {
    // Printed once, on purpose, to the terminal (not through the logger): only its hash is stored.
    process.stdout.write(`\nHerald admin token (shown once, store it now): ${admin.token}\n\n`)
  }
  const adminHash = await store.getAdminTokenHash()

  // Control events sent while this node was cut off from Redis were missed: drop every cached
  // app and key, and close connections whose key is gone.
  let revalidate = () => {}
  let presence: PresenceManager | undefined
  const picked = await engines[brokerDriver]!(config, nodeId, logger, {
    onResubscribed: () => revalidate(),
    present: (appId, channel) => presence instanceof MemoryPresence && presence.has(appId, channel),
  })
  presence = deps.presence ?? picked.presence
  const broker = deps.broker ?? picked.broker
  const control = deps.control ?? picked.control
  const metrics = new Metrics()
  let draining = false
  const registry = new AppRegistry(store)
  const engine = new Engine({
    config,
    logger,
    metrics,
    registry,
    broker,
    presence,
    clusterState: deps.clusterState ?? picked.clusterState,
  })
  const outbox = deps.outbox ?? (await outboxes[store.driver](config, logger))
  const webhooks = new Webhooks({
    outbox,
    occupancy: config.redisUrl
      ? new RedisOccupancy({
          url: config.redisUrl,
          nodeId,
          ttlMs: config.presenceTtlSeconds * 1000,
          onError: (err) => logger.warn({ err }, 'webhook occupancy error'),
        })
      : new MemoryOccupancy(),
    options: config.webhooks,
    nodeId,
    soleSender: store.driver === 'sqlite',
    app: (appId) => registry.app(appId),
    // The app's oldest live key signs (keys are listed oldest first).
    signingKey: async (appId) => (await store.listKeys(appId)).find((k) => !k.revokedAt) ?? null,
    logger,
    metrics: {
      delivered: (app) => metrics.webhookDeliveries.inc({ app }),
      retried: (app) => metrics.webhookRetries.inc({ app }),
      dropped: (app) => metrics.webhookFailures.inc({ app }),
    },
  })
  engine.listen(webhooks)
  metrics.bindWebhookQueue(() => webhooks.depth())

  const ctx: NodeContext = {
    config,
    logger,
    store,
    webhooks,
    control,
    engine,
    metrics,
    draining: () => draining,
  }

  const onControl = (event: ControlEvent) => {
    registry.invalidate(event)
    if (event.type === 'key.revoked') {
      const n = engine.closeSessions(event.appId, CloseCodes.unauthorized, 'key revoked', (s) => s.keyId === event.keyId)
      if (n > 0) logger.info({ app: event.appId, keyId: event.keyId, closed: n }, 'closed connections of a revoked key')
    } else if (event.type === 'user.terminate') {
      const n = terminateUser(engine, event.appId, event.userId)
      if (n > 0) logger.info({ app: event.appId, closed: n }, 'terminated the connections of a user')
    } else if (event.type === 'app.deleted') {
      engine.closeSessions(event.appId, CloseCodes.appGone, 'app deleted')
      webhooks.forgetApp(event.appId)
      engine.removeApp(event.appId).catch((err: unknown) => logger.warn({ err, app: event.appId }, 'could not drop app state'))
    }
  }

  revalidate = () => {
    registry.clear()
    for (const session of [...engine.hub.sessions()]) {
      void (async () => {
        if (!(await engine.app(session.appId))) return session.close(CloseCodes.appGone, 'app deleted')
        if (session.keyId && !(await engine.keyActive(session.appId, session.keyId))) session.close(CloseCodes.unauthorized, 'key revoked')
      })().catch((err: unknown) => logger.warn({ err }, 'could not re-check a connection'))
    }
    logger.info('control bus reconnected: caches dropped and keys re-checked')
  }

  const protocols = (deps.protocols ?? PROTOCOLS).map((make) => make(ctx))
  const http = createHttpApp(ctx, { verifyAdmin: (token) => adminHash !== null && adminTokenMatches(adminHash, token), protocols })
  metrics.bindHub(engine.hub)
  const server = createServer(publishFastPath(ctx, getRequestListener(http.fetch)))
  server.keepAliveTimeout = 65_000
  server.headersTimeout = 66_000
  // A whole request (headers and body) must arrive within this: a client that withholds or
  // trickles its body cannot hold a socket forever. SSE and long-polls are not cut: the timer
  // stops once the request is received, however long the response then streams.
  server.requestTimeout = 66_000
  attachUpgrades(server, protocols, () => draining)

  return {
    ctx,
    server,
    async start() {
      await control.start(onControl)
      await engine.start()
      await webhooks.start()
      await new Promise<void>((resolve, reject) => {
        server.once('error', reject)
        server.listen(config.port, config.host, () => resolve())
      })
      for (const p of protocols) p.start?.()
      const port = (server.address() as { port: number }).port
      logger.info({ host: config.host, port, node: nodeId, store: store.driver, broker: broker.driver }, 'herald listening')
      return port
    },
    async shutdown() {
      if (draining) return
      draining = true
      logger.info('draining')
      engine.closeAll(CloseCodes.goingAway, 'server going away')
      for (const p of protocols) p.drain?.()
      const closed = new Promise<void>((resolve) => server.close(() => resolve()))
      server.closeIdleConnections()
      const grace = setTimeout(() => server.closeAllConnections(), config.shutdownGraceMs)
      grace.unref()
      await closed
      clearTimeout(grace)
      for (const p of protocols) p.stop?.()
      // Events of the sessions just closed go to the outbox; what is not delivered waits there.
      await webhooks.stop(Math.min(2_000, config.shutdownGraceMs)).catch((err: unknown) => logger.warn({ err }, 'webhooks stop failed'))
      await outbox.close().catch(() => {})
      await engine.close()
      await control.close().catch((err: unknown) => logger.warn({ err }, 'control bus close failed'))
      await store.close()
      unlock()
      logger.info('stopped')
    },
  }
}
