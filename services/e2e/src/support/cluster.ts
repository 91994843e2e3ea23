import { spawn, type ChildProcess } from 'node:child_process'
import { randomBytes } from 'node:crypto'
import pg from 'pg'
import { freePort, startHerald, type HeraldProcess } from './herald.js'

/** The PostgreSQL server the cluster tests use (trust auth, as CI starts it). */
export const POSTGRES_ADMIN_URL = process.env.HERALD_TEST_POSTGRES_URL ?? 'postgres://postgres@127.0.0.1:5432/postgres'

/** Children started by this module, killed if the test process exits without cleaning up. */
const children = new Set<ChildProcess>()
process.once('exit', () => {
  for (const c of children) if (c.exitCode === null && c.signalCode === null) c.kill('SIGKILL')
})
function track(child: ChildProcess): void {
  children.add(child)
  child.once('exit', () => children.delete(child))
}

/** A dedicated `redis-server` child process on 127.0.0.1, keeping nothing on disk. */
export interface RedisServer {
  port: number
  url: string
  /** The running process's pid (changes on restart). */
  readonly pid: number | undefined
  /** Stops the process by its pid (SIGTERM by default) and waits for the exit. */
  stop(signal?: NodeJS.Signals): Promise<void>
  /** Starts it again on the same port (empty: it persists nothing). */
  start(): Promise<void>
  /**
   * SIGSTOP: the server keeps its connections open but answers nothing, as behind a network
   * partition that drops packets. `resume()` (SIGCONT) ends it; `stop()` resumes first.
   */
  pause(): void
  resume(): void
}

/**
 * Starts `redis-server --port P --bind 127.0.0.1 --save "" --appendonly no` on a free port and
 * waits until it accepts connections. Stop it with `stop()`; `start()` brings it back empty.
 *
 * @example
 * const redis = await startRedis()
 * await redis.stop(); await redis.start() // a restart that lost everything
 */
export async function startRedis(port?: number): Promise<RedisServer> {
  const p = port ?? (await freePort())
  let child: ChildProcess | null = null
  let exited: Promise<void> = Promise.resolve()
  let out = ''

  const start = async (): Promise<void> => {
    if (child && child.exitCode === null && child.signalCode === null) throw new Error('redis-server is already running')
    out = ''
    const c = spawn('redis-server', ['--port', String(p), '--bind', '127.0.0.1', '--save', '', '--appendonly', 'no', '--daemonize', 'no'], {
      stdio: ['ignore', 'pipe', 'pipe'],
    })
    child = c
    track(c)
    exited = new Promise((resolve) => c.once('exit', () => resolve()))
    const ready = new Promise<void>((resolve, reject) => {
      const onData = (d: Buffer) => {
        out += d
        if (out.includes('Ready to accept connections')) resolve()
      }
      c.stdout!.on('data', onData)
      c.stderr!.on('data', onData)
      c.once('error', reject)
      c.once('exit', (code) => reject(new Error(`redis-server exited with ${code}:\n${out}`)))
    })
    let timer: NodeJS.Timeout | undefined
    const timeout = new Promise<never>((_, reject) => {
      timer = setTimeout(() => reject(new Error(`redis-server did not start on port ${p}:\n${out}`)), 15_000)
    })
    try {
      await Promise.race([ready, timeout])
    } catch (err) {
      c.kill('SIGKILL')
      throw err
    } finally {
      clearTimeout(timer)
    }
  }

  await start()
  return {
    port: p,
    url: `redis://127.0.0.1:${p}`,
    get pid() {
      return child?.pid
    },
    async stop(signal: NodeJS.Signals = 'SIGTERM') {
      const c = child
      if (!c || c.exitCode !== null || c.signalCode !== null) return
      process.kill(c.pid!, 'SIGCONT')
      process.kill(c.pid!, signal)
      await exited
    },
    start,
    pause() {
      if (child && child.exitCode === null && child.signalCode === null) process.kill(child.pid!, 'SIGSTOP')
    },
    resume() {
      if (child && child.exitCode === null && child.signalCode === null) process.kill(child.pid!, 'SIGCONT')
    },
  }
}

/** A PostgreSQL database made for one test file. */
export interface TestDatabase {
  name: string
  url: string
  /**
   * Makes the database unreachable for its clients (`ALLOW_CONNECTIONS false` and their
   * sessions terminated) or reachable again: a database outage that leaves the shared
   * PostgreSQL server alone.
   */
  setReachable(reachable: boolean): Promise<void>
  /** Drops it, disconnecting whoever is still connected. */
  drop(): Promise<void>
}

/**
 * Creates a fresh database `herald_cluster_<random>` on {@link POSTGRES_ADMIN_URL}.
 *
 * @example
 * const db = await createDatabase()
 * // … HERALD_DATABASE_URL: db.url …
 * await db.drop()
 */
export async function createDatabase(prefix = 'herald_cluster_'): Promise<TestDatabase> {
  const name = prefix + randomBytes(6).toString('hex')
  await adminQuery(`CREATE DATABASE ${name}`)
  const url = new URL(POSTGRES_ADMIN_URL)
  url.pathname = '/' + name
  let dropped = false
  return {
    name,
    url: url.toString(),
    async setReachable(reachable: boolean) {
      await adminQuery(`ALTER DATABASE ${name} ALLOW_CONNECTIONS ${reachable}`)
      if (!reachable) await adminQuery(`SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE datname = '${name}' AND pid <> pg_backend_pid()`)
    },
    async drop() {
      if (dropped) return
      dropped = true
      await adminQuery(`DROP DATABASE IF EXISTS ${name} WITH (FORCE)`)
    },
  }
}

async function adminQuery(sql: string): Promise<void> {
  const client = new pg.Client({ connectionString: POSTGRES_ADMIN_URL })
  await client.connect()
  try {
    await client.query(sql)
  } finally {
    await client.end()
  }
}

export interface ClusterOptions {
  /** How many Herald nodes (default 3). */
  nodes?: number
  /** HERALD_PRESENCE_TTL_SECONDS of every node (default 3). */
  presenceTtlSeconds?: number
  /** Extra environment for every node. */
  env?: Record<string, string>
}

/** N Herald processes sharing one dedicated Redis and one fresh PostgreSQL database. */
export interface Cluster {
  redis: RedisServer
  db: TestDatabase
  nodes: HeraldProcess[]
  adminToken: string
  masterKey: string
  presenceTtlSeconds: number
  /** Starts one more node (or a node again under an old id) with the cluster's settings. */
  startNode(nodeId: string): Promise<HeraldProcess>
  /** Stops every node (SIGTERM, then SIGKILL after 10 s), the Redis server, and drops the database. Never throws. */
  stop(): Promise<void>
}

/**
 * Starts a cluster: a dedicated `redis-server`, a fresh database, and N nodes started at the
 * same time (so their migrations race, which the advisory lock must settle), all with the same
 * admin token and master key. Whatever started is stopped again when a later step fails.
 *
 * @example
 * const cluster = await startCluster({ nodes: 3 })
 * const [a, b, c] = cluster.nodes
 * afterAll(() => cluster.stop())
 */
export async function startCluster(options: ClusterOptions = {}): Promise<Cluster> {
  const count = options.nodes ?? 3
  const presenceTtlSeconds = options.presenceTtlSeconds ?? 3
  const adminToken = 'cluster-admin-' + randomBytes(12).toString('hex')
  const masterKey = randomBytes(32).toString('hex')
  const nodes: HeraldProcess[] = []
  let redis: RedisServer | null = null
  let db: TestDatabase | null = null

  const stop = async (): Promise<void> => {
    redis?.resume() // a test may have left it paused; nodes shut down faster when it answers
    await Promise.all(nodes.map((n) => stopNode(n)))
    await redis?.stop().catch(() => {})
    await db?.drop().catch((err: unknown) => console.warn(`could not drop ${db?.name}: ${String(err)}`))
  }

  try {
    redis = await startRedis()
    db = await createDatabase()
    const r = redis
    const d = db
    const startNode = async (nodeId: string): Promise<HeraldProcess> => {
      const node = await startHerald({
        adminToken,
        env: {
          HERALD_REDIS_URL: r.url,
          HERALD_DATABASE_URL: d.url,
          HERALD_NODE_ID: nodeId,
          HERALD_PRESENCE_TTL_SECONDS: String(presenceTtlSeconds),
          HERALD_MASTER_KEY: masterKey,
          ...options.env,
        },
      })
      track(node.child)
      nodes.push(node)
      return node
    }
    const started = await Promise.allSettled(Array.from({ length: count }, (_, i) => startNode(`node-${String.fromCharCode(97 + i)}`)))
    const failed = started.find((s): s is PromiseRejectedResult => s.status === 'rejected')
    if (failed) throw failed.reason
    // Keep the nodes in the order a, b, c… whatever order they became ready in.
    nodes.sort(
      (x, y) => started.findIndex((s) => s.status === 'fulfilled' && s.value === x) - started.findIndex((s) => s.status === 'fulfilled' && s.value === y),
    )
    return { redis, db, nodes, adminToken, masterKey, presenceTtlSeconds, startNode, stop }
  } catch (err) {
    await stop()
    throw err
  }
}

async function stopNode(node: HeraldProcess): Promise<void> {
  if (node.child.exitCode !== null || node.child.signalCode !== null) return
  const killer = setTimeout(() => node.child.kill('SIGKILL'), 10_000)
  try {
    await node.stop('SIGTERM')
  } finally {
    clearTimeout(killer)
  }
}
