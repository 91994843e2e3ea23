import { CloseCodes } from '@herald/protocol'
import { randomBytes } from 'node:crypto'
import { join } from 'node:path'
import Database from 'better-sqlite3'
import pg from 'pg'
import { afterAll, describe, expect, it } from 'vitest'
import { expectAlive, expectContractAnswer, expectError, history, http, startRedisServer, type RawResponse, type RedisProcess } from './support/attack.js'
import { createApp, publish, startHerald, type CreatedApp, type HeraldProcess } from './support/herald.js'
import { until, WsClient } from './support/ws-client.js'

/**
 * Faults: SIGTERM and kill -9 while publishing (with the Redis broker, so history outlives
 * the process), a Redis that dies, a database that stops accepting connections.
 */

const POSTGRES_ADMIN_URL = process.env.HERALD_TEST_POSTGRES_URL ?? 'postgres://postgres@127.0.0.1:5432/postgres'
const heralds: HeraldProcess[] = []
const redises: RedisProcess[] = []
const clients: WsClient[] = []

afterAll(async () => {
  for (const c of clients) c.ws.terminate()
  for (const h of heralds) await h.stop('SIGKILL')
  for (const r of redises) await r.stop('SIGKILL')
})

async function herald(options: Parameters<typeof startHerald>[0]): Promise<HeraldProcess> {
  const h = await startHerald(options)
  heralds.push(h)
  return h
}

async function redisServer(port?: number): Promise<RedisProcess> {
  const r = await startRedisServer(port)
  redises.push(r)
  return r
}

/**
 * Publishes to `channel` from `lanes` concurrent loops until `stop()` is true or a publish
 * fails (refused or connection lost); returns the ids that got a 200.
 */
function publishLoops(h: HeraldProcess, app: CreatedApp, channel: string, lanes: number, stop: () => boolean): { acked: string[]; done: Promise<void> } {
  const acked: string[] = []
  let n = 0
  const lane = async () => {
    while (!stop()) {
      const id = `m-${n++}`
      let res: RawResponse
      try {
        res = await http(h.url, 'POST', `/v1/apps/${app.appId}/messages`, {
          headers: { authorization: app.basic, 'content-type': 'application/json' },
          body: JSON.stringify({ messages: [{ channel, id, data: { id, pad: 'x'.repeat(500) } }] }),
        })
      } catch {
        return // the process went away mid-request: not acknowledged
      }
      if (res.status !== 200) return
      acked.push(id)
    }
  }
  return { acked, done: Promise.all(Array.from({ length: lanes }, lane)).then(() => {}) }
}

describe('SIGTERM while publishing (Redis broker)', () => {
  it(`closes clients with ${CloseCodes.goingAway}, answers held polls, and keeps every acknowledged publish`, async () => {
    const redis = await redisServer()
    const env = { HERALD_REDIS_URL: redis.url }
    const h = await herald({ env })
    const app = await createApp(h, { historySize: 10_000, publishRatePerSecond: 1_000_000 })
    const sub = await WsClient.connect(`${h.wsUrl}/v1/apps/${app.appId}/ws`)
    clients.push(sub)
    await sub.request({ op: 'subscribe', channel: 'live' })
    const first = await http(h.url, 'GET', `/v1/apps/${app.appId}/poll?channels=idle&wait=0`)
    const held = http(h.url, 'GET', `/v1/apps/${app.appId}/poll?channels=idle&wait=30&cursor=${encodeURIComponent(first.json.cursor)}`, { timeoutMs: 60_000 })

    let stopping = false
    const loops = publishLoops(h, app, 'live', 4, () => stopping)
    await until(() => loops.acked.length >= 200, 30_000, '200 acknowledged publishes')
    const exit = h.stop('SIGTERM')
    expect((await sub.closed).code).toBe(CloseCodes.goingAway)
    const poll = await held
    expect(poll.status).toBe(200)
    expect(poll.json).toMatchObject({ cursor: expect.any(String), messages: [] })
    expect(await exit).toEqual({ code: 0, signal: null })
    stopping = true
    await loops.done

    const again = await herald({ env, dataDir: h.dataDir, adminToken: h.adminToken })
    const hist = await history(again, app, 'live', 'limit=1000&after=0')
    let all = hist.messages
    while (all.length < 10_000) {
      const more = await history(again, app, 'live', `limit=1000&after=${all.at(-1)!.seq}`)
      if (more.messages.length === 0) break
      all = all.concat(more.messages)
    }
    const stored = new Set(all.map((m) => m.id))
    const missing = loops.acked.filter((id) => !stored.has(id))
    expect(missing, `${missing.length} of ${loops.acked.length} acknowledged publishes lost`).toEqual([])
    expect(all.map((m) => m.seq)).toEqual(all.map((_, i) => i + 1))
    // what was delivered before the close is a gap-free prefix of the history
    const delivered = sub.messages('live').map((m) => m.seq)
    expect(delivered).toEqual(delivered.map((_, i) => i + 1))
    expect(delivered.length).toBeGreaterThan(0)
  })
})

describe('kill -9 while publishing and writing keys (SQLite store, Redis broker)', () => {
  it('restarts on the same data dir with an intact database, its apps and keys, and every acknowledged publish', async () => {
    const redis = await redisServer()
    const env = { HERALD_REDIS_URL: redis.url }
    const h = await herald({ env })
    const app = await createApp(h, { historySize: 10_000, publishRatePerSecond: 1_000_000 })
    let killed = false
    const loops = publishLoops(h, app, 'heavy', 6, () => killed)
    // the store is written to as well while the process dies
    const keys: string[] = []
    const apps: string[] = []
    const writer = (async () => {
      for (let i = 0; !killed; i++) {
        try {
          if (i % 2 === 0) {
            const res = await http(h.url, 'POST', `/admin/v1/apps/${app.appId}/keys`, {
              headers: { authorization: `Bearer ${h.adminToken}`, 'content-type': 'application/json' },
              body: JSON.stringify({ label: `k${i}` }),
            })
            if (res.status === 201) keys.push(res.json.key.keyId)
          } else {
            apps.push((await createApp(h, {}, `a${i}`)).appId)
          }
        } catch {
          return
        }
      }
    })()
    await until(() => loops.acked.length >= 300 && keys.length >= 5, 30_000, 'publishes and key writes')
    expect(await h.stop('SIGKILL')).toEqual({ code: null, signal: 'SIGKILL' })
    killed = true
    await loops.done
    await writer

    const db = new Database(join(h.dataDir, 'herald.db'), { readonly: true, fileMustExist: true })
    try {
      expect(db.pragma('integrity_check', { simple: true })).toBe('ok')
    } finally {
      db.close()
    }

    const again = await herald({ env, dataDir: h.dataDir, adminToken: h.adminToken })
    const read = await http(again.url, 'GET', `/admin/v1/apps/${app.appId}`, { headers: { authorization: `Bearer ${again.adminToken}` } })
    expect(read.status).toBe(200)
    const listed = new Set(read.json.keys.map((k: any) => k.keyId))
    for (const k of [app.keyId, ...keys]) expect(listed.has(k), `key ${k}`).toBe(true)
    const list = await http(again.url, 'GET', '/admin/v1/apps', { headers: { authorization: `Bearer ${again.adminToken}` } })
    const ids = new Set(list.json.apps.map((a: any) => a.id))
    for (const id of apps) expect(ids.has(id), `app ${id}`).toBe(true)

    let all: any[] = []
    for (;;) {
      const more = await history(again, app, 'heavy', `limit=1000&after=${all.at(-1)?.seq ?? 0}`)
      if (more.messages.length === 0) break
      all = all.concat(more.messages)
    }
    const stored = new Set(all.map((m) => m.id))
    const missing = loops.acked.filter((id) => !stored.has(id))
    expect(missing, `${missing.length} of ${loops.acked.length} acknowledged publishes lost`).toEqual([])
    // secrets still open with the master key: the old key signs in
    const res = await publish(again, app, { channel: 'heavy', data: 'after restart' })
    expect(res.status).toBe(200)
    expect(res.body.messages[0].seq).toBe(all.length + 1)
  })
})

describe('a failing Redis', () => {
  it('turns /readyz 503 within seconds, fails publishes fast with 500 internal, and recovers', async () => {
    const redis = await redisServer()
    const env = { HERALD_REDIS_URL: redis.url }
    const h = await herald({ env })
    const app = await createApp(h)
    expect((await publish(h, app, { channel: 'c', data: 1 })).status).toBe(200)
    const c = await WsClient.connect(`${h.wsUrl}/v1/apps/${app.appId}/ws`)
    clients.push(c)

    await redis.stop('SIGKILL')
    await until(async () => (await http(h.url, 'GET', '/readyz')).status === 503, 10_000, '/readyz 503')
    const ready = await http(h.url, 'GET', '/readyz')
    expect(ready.json).toMatchObject({ status: 'unavailable', database: 'ok', broker: expect.stringMatching(/^down/) })

    for (let i = 0; i < 3; i++) {
      // A publish must fail fast, not hang: one that hangs is aborted after 10 s and fails the test.
      const res = await http(h.url, 'POST', `/v1/apps/${app.appId}/messages`, {
        headers: { authorization: app.basic, 'content-type': 'application/json' },
        body: JSON.stringify({ channel: 'c', data: 2 }),
        timeoutMs: 10_000,
      })
      expectError(res, 'internal', 'publish with Redis down')
    }
    // a WebSocket frame that needs the broker gets an error frame, not silence
    const reply = await c.request({ op: 'subscribe', channel: 'during-outage' })
    expect(reply).toMatchObject({ op: 'error', code: 'internal' })
    await expectAlive(h)

    // Redis is back (empty): the node recovers by itself
    await redisServer(redis.port)
    await until(async () => (await http(h.url, 'GET', '/readyz')).status === 200, 20_000, '/readyz 200 again')
    await until(async () => (await publish(h, app, { channel: 'c', data: 3 })).status === 200, 20_000, 'publishing again')
  })
})

describe('a failing database (PostgreSQL store)', () => {
  const dbName = 'herald_hardening_' + randomBytes(4).toString('hex')
  const admin = new pg.Client({ connectionString: POSTGRES_ADMIN_URL })
  let created = false
  afterAll(async () => {
    if (created) {
      await admin.query(`ALTER DATABASE ${dbName} ALLOW_CONNECTIONS true`).catch(() => {})
      for (const h of heralds) await h.stop('SIGKILL')
      await admin.query(`DROP DATABASE IF EXISTS ${dbName} WITH (FORCE)`).catch(() => {})
    }
    await admin.end().catch(() => {})
  })

  it('turns /readyz 503 and fails admin writes fast with 500 internal while connections are refused, then recovers', async () => {
    await admin.connect()
    await admin.query(`CREATE DATABASE ${dbName}`)
    created = true
    const url = new URL(POSTGRES_ADMIN_URL)
    url.pathname = '/' + dbName
    const h = await herald({ env: { HERALD_DATABASE_URL: url.toString() } })
    const app = await createApp(h)
    expect((await publish(h, app, { channel: 'c', data: 1 })).status).toBe(200)

    await admin.query(`ALTER DATABASE ${dbName} ALLOW_CONNECTIONS false`)
    await admin.query('SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE datname = $1', [dbName])
    await until(async () => (await http(h.url, 'GET', '/readyz')).status === 503, 10_000, '/readyz 503')
    expect((await http(h.url, 'GET', '/readyz')).json).toMatchObject({ status: 'unavailable', database: expect.stringMatching(/^down/), broker: 'ok' })

    // An admin write must fail fast, not hang: one that hangs is aborted after 10 s and fails the test.
    const res = await http(h.url, 'POST', '/admin/v1/apps', {
      headers: { authorization: `Bearer ${h.adminToken}`, 'content-type': 'application/json' },
      body: JSON.stringify({ name: 'during outage' }),
      timeoutMs: 10_000,
    })
    expectError(res, 'internal', 'create app with the database down')
    // the public API answers within the contract (the app may be cached, or the lookup fails)
    const pub = await http(h.url, 'POST', `/v1/apps/${app.appId}/messages`, {
      headers: { authorization: app.basic, 'content-type': 'application/json' },
      body: JSON.stringify({ channel: 'c', data: 2 }),
      timeoutMs: 30_000,
    })
    expectContractAnswer(pub, 'publish with the database down', { allowInternal: true })
    await expectAlive(h)

    await admin.query(`ALTER DATABASE ${dbName} ALLOW_CONNECTIONS true`)
    await until(async () => (await http(h.url, 'GET', '/readyz')).status === 200, 20_000, '/readyz 200 again')
    await createApp(h, {}, 'after outage')
  })
})
