// Starts a Herald cluster for the multi-node scenario: a dedicated redis-server and a fresh
// PostgreSQL database on 127.0.0.1, and N Herald nodes sharing them (one process each).
import { execFileSync, spawn } from 'node:child_process'
import { randomBytes } from 'node:crypto'
import { freePort, startHerald } from './servers.mjs'

const PG = ['-h', '127.0.0.1', '-U', 'postgres', '-d', 'postgres', '-v', 'ON_ERROR_STOP=1', '-qc']

async function startRedis() {
  const port = await freePort()
  const child = spawn('redis-server', ['--port', String(port), '--bind', '127.0.0.1', '--save', '', '--appendonly', 'no'], { stdio: 'ignore' })
  for (let i = 0; i < 100; i++) {
    try {
      if (
        execFileSync('redis-cli', ['-h', '127.0.0.1', '-p', String(port), 'ping'])
          .toString()
          .trim() === 'PONG'
      )
        break
    } catch {}
    await new Promise((r) => setTimeout(r, 50))
  }
  return { url: `redis://127.0.0.1:${port}`, stop: () => child.kill('SIGTERM') }
}

/**
 * Starts `nodes` Herald processes on one Redis and one PostgreSQL database. The returned
 * handle publishes through the first node (`url`), spreads subscribers over all (`targets`)
 * and is measured over every node process (`pids`).
 * @example const c = await startHeraldCluster({ nodes: 3 }); ...; await c.stop()
 */
export async function startHeraldCluster({ nodes = 3 } = {}) {
  const redis = await startRedis()
  const db = 'herald_bench_' + randomBytes(4).toString('hex')
  execFileSync('psql', [...PG, `CREATE DATABASE ${db}`])
  const env = {
    HERALD_REDIS_URL: redis.url,
    HERALD_DATABASE_URL: `postgres://postgres@127.0.0.1:5432/${db}`,
    HERALD_MASTER_KEY: randomBytes(32).toString('hex'),
  }
  const adminToken = 'bench-admin-' + randomBytes(8).toString('hex')
  const members = []
  try {
    // The first node creates the bench app; the others share the control plane.
    members.push(await startHerald({ env: { ...env, HERALD_NODE_ID: 'bench-1' }, adminToken }))
    for (let i = 2; i <= nodes; i++) members.push(await startHerald({ env: { ...env, HERALD_NODE_ID: `bench-${i}` }, adminToken, createApp: false }))
  } catch (err) {
    await Promise.all(members.map((m) => m.stop()))
    redis.stop()
    execFileSync('psql', [...PG, `DROP DATABASE IF EXISTS ${db}`])
    throw err
  }
  const first = members[0]
  return {
    ...first,
    kind: 'herald-cluster',
    pids: members.map((m) => m.pid),
    targets: members.map((m) => ({ url: m.url, wsBase: m.wsBase })),
    assertAlive: () => {
      for (const m of members) m.assertAlive()
    },
    async stop() {
      await Promise.all(members.map((m) => m.stop()))
      redis.stop()
      execFileSync('psql', [...PG, `DROP DATABASE IF EXISTS ${db} WITH (FORCE)`])
    },
  }
}
