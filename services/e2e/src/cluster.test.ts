import { CloseCodes } from '@herald/protocol'
import { EventSource } from 'eventsource'
import { Redis } from 'ioredis'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { metric, scrape } from './support/attack.js'
import { startCluster, type Cluster } from './support/cluster.js'
import { createApp, publish, signToken, type CreatedApp, type HeraldProcess } from './support/herald.js'
import { until, WsClient, type Frame } from './support/ws-client.js'

// Three real Herald processes sharing one dedicated redis-server and one fresh PostgreSQL
// database. The tests run in order and the later ones are destructive (kill -9 of node B,
// a Redis restart), so each test creates the apps and channels it needs.

let cluster: Cluster
let A: HeraldProcess
let B: HeraldProcess
let C: HeraldProcess
let app: CreatedApp

beforeAll(async () => {
  cluster = await startCluster({ nodes: 3, presenceTtlSeconds: 3 })
  ;[A, B, C] = cluster.nodes as [HeraldProcess, HeraldProcess, HeraldProcess]
  app = await createApp(A)
}, 120_000)

afterAll(async () => {
  for (const c of openClients) c.close()
  await cluster?.stop()
}, 60_000)

// ---------------------------------------------------------------------------------------------
// Small clients for the three transports. Every client is closed in afterAll as well.

const openClients = new Set<{ close(): void }>()

function wsUrl(node: HeraldProcess, a: CreatedApp, token?: string): string {
  return `${node.wsUrl}/v1/apps/${a.appId}/ws${token ? `?token=${encodeURIComponent(token)}` : ''}`
}

async function ws(node: HeraldProcess, a: CreatedApp, token?: string): Promise<WsClient> {
  const c = await WsClient.connect(wsUrl(node, a, token))
  openClients.add(c)
  return c
}

interface SseEvent {
  type: string
  data: any
  id: string
}

/** An EventSource (the `eventsource` package) that records every event; `Last-Event-ID` sent as a header when given. */
class SseClient {
  readonly events: SseEvent[] = []
  readonly errors: unknown[] = []
  private readonly es: EventSource

  constructor(url: string, lastEventId?: string) {
    this.es = new EventSource(url, {
      fetch: (input, init) => fetch(input, { ...init, headers: { ...init?.headers, ...(lastEventId ? { 'Last-Event-ID': lastEventId } : {}) } }),
    })
    for (const type of ['subscribed', 'message', 'presence']) {
      this.es.addEventListener(type, (e) => this.events.push({ type, data: JSON.parse(e.data), id: e.lastEventId }))
    }
    this.es.addEventListener('error', (e) => this.errors.push({ message: e.message, code: e.code }))
    openClients.add(this)
  }

  static async open(node: HeraldProcess, a: CreatedApp, channels: string, lastEventId?: string): Promise<SseClient> {
    const c = new SseClient(`${node.url}/v1/apps/${a.appId}/sse?channels=${channels}`, lastEventId)
    const count = channels.split(',').length
    await until(() => c.of('subscribed').length >= count || c.errors.length > 0, 10_000, 'sse subscribed')
    if (c.errors.length > 0) throw new Error(`sse failed: ${JSON.stringify(c.errors)}`)
    return c
  }

  of(type: string): SseEvent[] {
    return this.events.filter((e) => e.type === type)
  }

  close(): void {
    this.es.close()
    openClients.delete(this)
  }
}

interface PollReply {
  cursor: string
  messages: any[]
  recovered?: Record<string, false>
}

async function poll(node: HeraldProcess, a: CreatedApp, channels: string, query: { cursor?: string; wait?: number } = {}): Promise<PollReply> {
  const q = new URLSearchParams({ channels })
  if (query.cursor !== undefined) q.set('cursor', query.cursor)
  if (query.wait !== undefined) q.set('wait', String(query.wait))
  const res = await fetch(`${node.url}/v1/apps/${a.appId}/poll?${q}`)
  const body = await res.json()
  if (res.status !== 200) throw new Error(`poll on ${node.url}: ${res.status} ${JSON.stringify(body)}`)
  return body as PollReply
}

async function publishOk(node: HeraldProcess, a: CreatedApp, body: unknown): Promise<{ channel: string; id: string; seq: number; epoch: string }> {
  const res = await publish(node, a, body)
  if (res.status !== 200) throw new Error(`publish on ${node.url}: ${res.status} ${JSON.stringify(res.body)}`)
  return res.body.messages[0]
}

async function admin(node: HeraldProcess, method: string, path: string, body?: unknown): Promise<{ status: number; body: any }> {
  const res = await fetch(`${node.url}/admin/v1${path}`, {
    method,
    headers: { authorization: `Bearer ${cluster.adminToken}`, ...(body ? { 'content-type': 'application/json' } : {}) },
    body: body ? JSON.stringify(body) : undefined,
  })
  return { status: res.status, body: res.status === 204 ? null : await res.json() }
}

/** Resolves with the close event, or rejects when it does not come within `ms`. */
function closedWithin(c: WsClient, ms: number): Promise<{ code: number; reason: string }> {
  let timer: NodeJS.Timeout
  return Promise.race([
    c.closed.finally(() => clearTimeout(timer)),
    new Promise<never>((_, reject) => {
      timer = setTimeout(() => reject(new Error(`the WebSocket was not closed within ${ms} ms`)), ms)
    }),
  ])
}

/** Waits until `count` nodes listen on the control channel of the cluster's Redis (after a restart). */
async function controlListeners(count: number): Promise<void> {
  const probe = new Redis(cluster.redis.url, { lazyConnect: true, maxRetriesPerRequest: 1 })
  try {
    await probe.connect()
    await until(
      async () => {
        const [, listeners] = (await probe.pubsub('NUMSUB', 'herald:control')) as [string, number]
        return Number(listeners) === count
      },
      20_000,
      `${count} nodes listening on herald:control`,
    )
  } finally {
    probe.disconnect()
  }
}

/**
 * Revokes a key through `node` right after a Redis restart. A revoke is idempotent, and until
 * the node's control publisher has reconnected it answers 500 without sending the event, so an
 * operator (and this test) repeats it until it answers 204.
 */
async function revokeAfterRestart(node: HeraldProcess, a: CreatedApp): Promise<void> {
  let last = 0
  await until(
    async () => {
      last = (await admin(node, 'DELETE', `/apps/${a.appId}/keys/${a.keyId}`)).status
      if (last !== 204 && last !== 500) throw new Error(`revoke answered ${last}`)
      return last === 204
    },
    20_000,
    'a revoke answered 204',
  )
}

const basic = (a: CreatedApp) => ({ authorization: a.basic })
const dataOf = (frames: Array<{ [k: string]: any }>) => frames.map((f) => f.data)

// ---------------------------------------------------------------------------------------------

describe('fan-out across nodes', () => {
  it('delivers what is published through B to subscribers on A over WebSocket, SSE and poll', async () => {
    const wsClient = await ws(A, app)
    const sub = await wsClient.request({ op: 'subscribe', channel: 'fan' })
    expect(sub).toMatchObject({ op: 'subscribed', channel: 'fan', seq: 0 })
    const sse = await SseClient.open(A, app, 'fan')
    const head = await poll(A, app, 'fan')
    expect(head.messages).toEqual([])
    const held = poll(A, app, 'fan', { cursor: head.cursor, wait: 20 })

    const sent = await publishOk(B, app, { channel: 'fan', name: 'greeting', data: { from: 'B' } })
    expect(sent).toMatchObject({ channel: 'fan', seq: 1, epoch: sub.epoch })

    const expected = { channel: 'fan', id: sent.id, seq: 1, epoch: sent.epoch, name: 'greeting', data: { from: 'B' }, ts: expect.any(Number) }
    expect(await wsClient.next((f) => f.op === 'message')).toEqual({ op: 'message', ...expected })
    await until(() => sse.of('message').length === 1, 10_000, 'the SSE message')
    expect(sse.of('message')[0]!.data).toEqual(expected)
    const polled = await held
    expect(polled.messages).toEqual([expected])
    expect(polled.recovered).toBeUndefined()

    // Order per channel holds across publishing nodes.
    for (const [i, node] of [A, B, C, B, A].entries()) await publishOk(node, app, { channel: 'fan', data: i })
    await until(() => wsClient.messages('fan').length === 6 && sse.of('message').length === 6, 10_000, 'five more messages')
    expect(wsClient.messages('fan').map((m) => m.seq)).toEqual([1, 2, 3, 4, 5, 6])
    expect(sse.of('message').map((e) => e.data.seq)).toEqual([1, 2, 3, 4, 5, 6])
    wsClient.close()
    sse.close()
  })
})

describe('resume on another node', () => {
  it('WebSocket: leaves A, resumes on C with since, gets every missed message once, in order', async () => {
    const a = await ws(A, app)
    const sub = await a.request({ op: 'subscribe', channel: 'resume-ws' })
    await publishOk(B, app, { channel: 'resume-ws', data: 1 })
    const first = await a.next((f) => f.op === 'message')
    a.close()
    await a.closed
    for (const [n, node] of [
      [2, A],
      [3, B],
      [4, C],
    ] as const)
      await publishOk(node, app, { channel: 'resume-ws', data: n })

    const c = await ws(C, app)
    const again = await c.request({ op: 'subscribe', channel: 'resume-ws', since: { epoch: sub.epoch, seq: first.seq } })
    expect(again).toMatchObject({ op: 'subscribed', channel: 'resume-ws', epoch: sub.epoch, seq: 4, recovered: true })
    await publishOk(B, app, { channel: 'resume-ws', data: 5 })
    await until(() => c.messages('resume-ws').length >= 4, 10_000, 'replayed and live messages')
    // A duplicate would arrive before a later message of the channel (per-channel order): publish one and wait for it.
    await publishOk(A, app, { channel: 'resume-ws', data: 6 })
    await until(() => c.messages('resume-ws').some((m) => m.data === 6), 10_000, 'the last message')
    expect(dataOf(c.messages('resume-ws'))).toEqual([2, 3, 4, 5, 6])
    c.close()
  })

  it('SSE: leaves A, resumes on C with the Last-Event-ID header, misses nothing', async () => {
    const a = await SseClient.open(A, app, 'resume-sse')
    await publishOk(B, app, { channel: 'resume-sse', data: 1 })
    await until(() => a.of('message').length === 1, 10_000, 'the first SSE message')
    const lastEventId = a.of('message')[0]!.id
    expect(lastEventId).not.toBe('')
    a.close()
    for (const n of [2, 3]) await publishOk(B, app, { channel: 'resume-sse', data: n })

    const c = await SseClient.open(C, app, 'resume-sse', lastEventId)
    expect(c.of('subscribed')[0]!.data).toMatchObject({ channel: 'resume-sse', seq: 3, recovered: true })
    await publishOk(A, app, { channel: 'resume-sse', data: 4 })
    await until(() => c.of('message').length >= 3, 10_000, 'replayed and live SSE messages')
    // A duplicate would arrive before a later message of the channel: publish one and wait for it.
    await publishOk(C, app, { channel: 'resume-sse', data: 5 })
    await until(() => c.of('message').some((e) => e.data.data === 5), 10_000, 'the last SSE message')
    expect(c.of('message').map((e) => e.data.data)).toEqual([2, 3, 4, 5])

    // Any transport resumes any other's cursor: the SSE event id works as a poll cursor on B.
    const fromSseId = await poll(B, app, 'resume-sse', { cursor: c.of('message')[0]!.id, wait: 0 })
    expect(fromSseId.messages.map((m) => m.data)).toEqual([3, 4, 5])
    c.close()
  })

  it('poll: a cursor from A continues on C and then on B', async () => {
    const head = await poll(A, app, 'resume-poll')
    await publishOk(B, app, { channel: 'resume-poll', data: 1 })
    const first = await poll(A, app, 'resume-poll', { cursor: head.cursor, wait: 0 })
    expect(dataOf(first.messages)).toEqual([1])
    for (const n of [2, 3]) await publishOk(A, app, { channel: 'resume-poll', data: n })
    const onC = await poll(C, app, 'resume-poll', { cursor: first.cursor, wait: 0 })
    expect(dataOf(onC.messages)).toEqual([2, 3])
    expect(onC.recovered).toBeUndefined()
    // A long-poll held on B wakes up for a message published through C.
    const held = poll(B, app, 'resume-poll', { cursor: onC.cursor, wait: 20 })
    await until(async () => metric(await scrape(B), 'herald_connections', { app: app.appId, transport: 'longpoll' }) === 1, 10_000, 'the poll held on B')
    await publishOk(C, app, { channel: 'resume-poll', data: 4 })
    expect(dataOf((await held).messages)).toEqual([4])
  })
})

describe('cluster-wide state', () => {
  it('sums connections over the nodes in stats and lists a channel subscribed only on another node', async () => {
    const fresh = await createApp(B, {}, 'stats')
    const clients = [await ws(A, fresh), await ws(B, fresh), await ws(B, fresh), await ws(C, fresh)]
    await clients[1]!.request({ op: 'subscribe', channel: 'only-on-b' })

    for (const node of [A, B, C]) {
      let last: any
      await until(
        async () => {
          const r = await admin(node, 'GET', `/apps/${fresh.appId}/stats`)
          last = r.body
          return r.status === 200 && r.body.stats.connections === 4 && r.body.stats.nodes === 3 && r.body.stats.subscriptions === 1
        },
        15_000,
        `stats on ${node.url} (last: ${JSON.stringify(last)})`,
      ).catch((err: Error) => {
        throw new Error(`${err.message}; last answer ${JSON.stringify(last)}`)
      })
      expect(last.stats).toMatchObject({ connections: 4, nodes: 3, channels: 1, subscriptions: 1 })
    }

    for (const node of [A, C]) {
      let body: any
      await until(
        async () => {
          const res = await fetch(`${node.url}/v1/apps/${fresh.appId}/channels`, { headers: basic(fresh) })
          body = await res.json()
          return res.status === 200 && body.channels.some((ch: { name: string }) => ch.name === 'only-on-b')
        },
        15_000,
        `the channel list on ${node.url}`,
      )
      expect(body).toEqual({ channels: [{ name: 'only-on-b', subscribers: 1 }] })
    }
    for (const c of clients) c.close()
  })
})

describe('control plane across nodes', () => {
  it('an app created through A works on B and C at once', async () => {
    const fresh = await createApp(A, {}, 'made-on-a')
    const c = await ws(C, fresh, await signToken(fresh, { sub: 'u1', cap: { '*': ['subscribe'] } }))
    await c.request({ op: 'subscribe', channel: 'x' })
    await publishOk(B, fresh, { channel: 'x', data: 'hi' })
    expect((await c.next((f) => f.op === 'message')).data).toBe('hi')
    c.close()
  })

  it(`a key revoked through A closes its WebSockets on B and C with ${CloseCodes.unauthorized} and is refused on C`, async () => {
    const fresh = await createApp(A, {}, 'revoke')
    const created = await admin(A, 'POST', `/apps/${fresh.appId}/keys`, { label: 'second' })
    expect(created.status).toBe(201)
    const second: CreatedApp = {
      appId: fresh.appId,
      keyId: created.body.key.keyId,
      secret: created.body.key.secret,
      basic: 'Basic ' + Buffer.from(`${created.body.key.keyId}:${created.body.key.secret}`).toString('base64'),
    }
    // A key created through A is usable on C at once.
    await publishOk(C, second, { channel: 'k', data: 'second key' })

    const oldToken = await signToken(fresh, { sub: 'old', cap: { '*': ['subscribe'] } })
    const onB = await ws(B, fresh, oldToken)
    const onC = await ws(C, fresh, oldToken)
    const keeper = await ws(B, second, await signToken(second, { sub: 'new', cap: { '*': ['subscribe'] } }))

    const revoked = await admin(A, 'DELETE', `/apps/${fresh.appId}/keys/${fresh.keyId}`)
    expect(revoked.status).toBe(204)
    expect((await closedWithin(onB, 3000)).code).toBe(CloseCodes.unauthorized)
    expect((await closedWithin(onC, 3000)).code).toBe(CloseCodes.unauthorized)

    // New connections with that key are refused on C; REST with it is refused on B.
    const refused = await WsClient.open(wsUrl(C, fresh, await signToken(fresh, { sub: 'late', cap: { '*': ['subscribe'] } })))
    openClients.add(refused)
    expect(await refused.next((f) => f.op === 'error')).toMatchObject({ code: 'unauthorized' })
    expect((await closedWithin(refused, 3000)).code).toBe(CloseCodes.unauthorized)
    const rest = await publish(B, fresh, { channel: 'k', data: 'old key' })
    expect(rest.status).toBe(401)
    expect(rest.body).toMatchObject({ error: { code: 'unauthorized' } })

    // The other key's connection stays.
    expect(keeper.ws.readyState).toBe(keeper.ws.OPEN)
    expect((await keeper.request({ op: 'ping' })).op).toBe('pong')
    keeper.close()
  })
})

describe('PostgreSQL outage', () => {
  it('says 503 on /readyz, keeps cached apps and keys working (REST publish, existing and new WebSockets), fails admin changes, and recovers', async () => {
    const cached = await createApp(A, {}, 'cached')
    const unseen = await createApp(A, {}, 'unseen-on-c')
    // Nodes A and C load `cached` (and its keys) now; C never sees `unseen` before the outage.
    await publishOk(A, cached, { channel: 'pg', data: 0 })
    const existing = await ws(C, cached, await signToken(cached, { sub: 'e', cap: { '*': ['subscribe'] } }))
    await existing.request({ op: 'subscribe', channel: 'pg' })

    await cluster.db.setReachable(false)
    try {
      for (const node of [A, C]) {
        let body: any
        await until(
          async () => {
            const res = await fetch(`${node.url}/readyz`)
            body = await res.json()
            return res.status === 503
          },
          10_000,
          `/readyz 503 on ${node.url}`,
        )
        expect(body).toMatchObject({ status: 'unavailable', broker: 'ok', database: expect.stringMatching(/^down/) })
      }
      // Cached app and keys: publishing, existing and new connections keep working.
      const sent = await publishOk(A, cached, { channel: 'pg', data: 1 })
      expect((await existing.next((f) => f.op === 'message' && f.data === 1)).seq).toBe(sent.seq)
      const fresh = await ws(C, cached, await signToken(cached, { sub: 'n', cap: { '*': ['subscribe'] } }))
      expect(await fresh.request({ op: 'subscribe', channel: 'pg' })).toMatchObject({ op: 'subscribed', seq: sent.seq })
      fresh.close()
      // Admin changes fail with `internal`; an app the node has not loaded cannot be served.
      const create = await admin(A, 'POST', '/apps', { name: 'during-outage' })
      expect(create.status).toBe(500)
      expect(create.body).toMatchObject({ error: { code: 'internal' } })
      const notLoaded = await publish(C, unseen, { channel: 'pg', data: 'x' })
      expect(notLoaded.status).toBe(500)
      expect(notLoaded.body).toMatchObject({ error: { code: 'internal' } })
    } finally {
      await cluster.db.setReachable(true)
    }

    for (const node of [A, C]) await until(async () => (await fetch(`${node.url}/readyz`)).status === 200, 15_000, `/readyz 200 on ${node.url}`)
    expect((await admin(A, 'POST', '/apps', { name: 'after-outage' })).status).toBe(201)
    await publishOk(C, unseen, { channel: 'pg', data: 'y' })
    existing.close()
  })
})

describe('presence across nodes', () => {
  it('lists members of A and B on C; kill -9 of B makes its member leave within the heartbeat timeout, SIGTERM at once', async () => {
    const ttlMs = cluster.presenceTtlSeconds * 1000
    const token = (sub: string) => signToken(app, { sub, info: { node: sub }, cap: { 'presence-*': ['subscribe', 'presence'] } })
    const alice = await ws(A, app, await token('alice'))
    const bob = await ws(B, app, await token('bob'))
    const carol = await ws(C, app, await token('carol'))
    await alice.request({ op: 'subscribe', channel: 'presence-room' })
    await bob.request({ op: 'subscribe', channel: 'presence-room' })
    await alice.next((f) => f.op === 'presence' && f.action === 'join' && f.member.clientId === 'bob')
    await carol.request({ op: 'subscribe', channel: 'presence-room' })
    await alice.next((f) => f.op === 'presence' && f.action === 'join' && f.member.clientId === 'carol')

    const ids = (members: Array<{ clientId: string }>) => members.map((m) => m.clientId).sort()
    const members = await carol.request({ op: 'members', channel: 'presence-room' })
    expect(ids(members.members)).toEqual(['alice', 'bob', 'carol'])
    expect(members.members).toContainEqual({ clientId: 'bob', info: { node: 'bob' } })
    const restMembers = async (node: HeraldProcess) => {
      const res = await fetch(`${node.url}/v1/apps/${app.appId}/channels/presence-room/presence`, { headers: basic(app) })
      expect(res.status).toBe(200)
      return (await res.json()) as { members: Array<{ clientId: string }>; count: number }
    }
    const before = await restMembers(C)
    expect(ids(before.members)).toEqual(['alice', 'bob', 'carol'])
    expect(before.count).toBe(3)

    const killed = Date.now()
    const exit = await B.stop('SIGKILL')
    expect(exit.signal).toBe('SIGKILL')
    const leave = await alice.next((f) => f.op === 'presence' && f.action === 'leave', 3 * ttlMs)
    expect(leave).toEqual({ op: 'presence', channel: 'presence-room', action: 'leave', member: { clientId: 'bob', info: { node: 'bob' } } })
    await until(async () => !ids((await restMembers(C)).members).includes('bob'), Math.max(1000, 3 * ttlMs - (Date.now() - killed)), "bob's leave on C")
    expect(ids((await restMembers(C)).members)).toEqual(['alice', 'carol'])
    expect(ids((await carol.request({ op: 'members', channel: 'presence-room' })).members)).toEqual(['alice', 'carol'])
    // Nobody on the living nodes left.
    expect(alice.frames.filter((f) => f.op === 'presence' && f.action === 'leave').map((f) => f.member.clientId)).toEqual(['bob'])

    // The dead node drops out of the stats once its state snapshot expires.
    await until(async () => (await admin(A, 'GET', `/apps/${app.appId}/stats`)).body.stats.nodes === 2, 20_000, 'nodes: 2')

    // A node stopped gracefully (SIGTERM) removes its members before it exits: no TTL to wait for.
    const again = await cluster.startNode('node-b')
    const dave = await ws(again, app, await token('dave'))
    await dave.request({ op: 'subscribe', channel: 'presence-room' })
    await alice.next((f) => f.op === 'presence' && f.action === 'join' && f.member.clientId === 'dave')
    expect(ids((await restMembers(C)).members)).toEqual(['alice', 'carol', 'dave'])
    const stopped = await again.stop('SIGTERM')
    expect(stopped.code).toBe(0)
    expect(ids((await restMembers(C)).members)).toEqual(['alice', 'carol'])
    expect((await closedWithin(dave, 1000)).code).toBe(CloseCodes.goingAway)
    await alice.next((f) => f.op === 'presence' && f.action === 'leave' && f.member.clientId === 'dave', 5000)
    alice.close()
    carol.close()
  })
})

describe('Redis unreachable (partition)', () => {
  it('fails publishes with internal instead of hanging, says 503 on /readyz, and recovers', async () => {
    await publishOk(A, app, { channel: 'partition', data: 'before' })
    cluster.redis.pause()
    try {
      // The request must come back by itself (the broker's command timeout is 5 s); the abort is only a backstop.
      const res = await fetch(`${A.url}/v1/apps/${app.appId}/messages`, {
        method: 'POST',
        headers: { ...basic(app), 'content-type': 'application/json' },
        body: JSON.stringify({ channel: 'partition', data: 'during' }),
        signal: AbortSignal.timeout(30_000),
      })
      expect(res.status).toBe(500)
      expect(await res.json()).toMatchObject({ error: { code: 'internal' } })
      const ready = await fetch(`${C.url}/readyz`, { signal: AbortSignal.timeout(30_000) })
      expect(ready.status).toBe(503)
      expect(await ready.json()).toMatchObject({ status: 'unavailable', database: 'ok', broker: expect.stringMatching(/^down/) })
    } finally {
      cluster.redis.resume()
    }
    await until(async () => (await fetch(`${A.url}/readyz`)).status === 200, 20_000, 'A ready again')
    const after = await publishOk(A, app, { channel: 'partition', data: 'after' })
    // Same Redis, same epoch: the message refused during the partition may or may not have been applied
    // once Redis answered again (a publisher retries with its own `id` to be safe), but seq never skips.
    const history = await fetch(`${C.url}/v1/apps/${app.appId}/channels/partition/messages?limit=10`, { headers: basic(app) })
    const body = (await history.json()) as { epoch: string; messages: Array<{ seq: number; data: unknown }> }
    expect(body.epoch).toBe(after.epoch)
    expect(body.messages.map((m) => m.seq)).toEqual(body.messages.map((_, i) => i + 1))
    expect(body.messages.at(-1)).toMatchObject({ seq: after.seq, data: 'after' })
  })
})

describe('Redis restart', () => {
  it('fails publishes fast while Redis is down, then says recovered:false to old positions and publishes again', async () => {
    // An app whose key is revoked after the restart, with a connection on C.
    const revocable = await createApp(A, {}, 'revoke-after-restart')
    const onC = await ws(C, revocable, await signToken(revocable, { sub: 'r', cap: { '*': ['subscribe'] } }))

    // Positions from before the restart, on all three transports.
    const live = await ws(A, app)
    const sub = await live.request({ op: 'subscribe', channel: 'restart' })
    const sse = await SseClient.open(C, app, 'restart')
    const head = await poll(C, app, 'restart')
    const before = await publishOk(C, app, { channel: 'restart', data: 'before' })
    expect(before.epoch).toBe(sub.epoch)
    await live.next((f) => f.op === 'message' && f.data === 'before')
    await until(() => sse.of('message').length === 1, 10_000, 'the SSE message before the restart')
    const lastEventId = sse.of('message')[0]!.id
    const cursor = (await poll(C, app, 'restart', { cursor: head.cursor, wait: 0 })).cursor
    sse.close()

    await cluster.redis.stop('SIGTERM')
    // Down: publishing fails with `internal` instead of hanging, and /readyz says 503.
    const down = await publish(A, app, { channel: 'restart', data: 'while down' })
    expect(down.status).toBe(500)
    expect(down.body).toMatchObject({ error: { code: 'internal' } })
    const ready = await fetch(`${A.url}/readyz`)
    expect(ready.status).toBe(503)
    expect(await ready.json()).toMatchObject({ status: 'unavailable', database: 'ok' })

    await cluster.redis.start()
    for (const node of [A, C]) {
      await until(async () => (await fetch(`${node.url}/readyz`)).status === 200, 20_000, `${node.url} ready again`)
    }
    // Publishing works again once the nodes reconnected; the live subscriber on A gets the
    // channel's new epoch (its subscription came back with the node's subscriber connection).
    let after: { epoch: string; seq: number } | undefined
    await until(
      async () => {
        const r = await publish(C, app, { channel: 'restart', data: 'after' })
        if (r.status === 200) after = r.body.messages[0]
        return live.messages('restart').some((m) => m.data === 'after')
      },
      20_000,
      'a message published after the restart on the live subscriber',
    )
    expect(after!.epoch).not.toBe(sub.epoch)
    const afterOnLive = live.messages('restart').filter((m) => m.data === 'after')
    expect(afterOnLive.every((m) => m.epoch === after!.epoch)).toBe(true)
    const seqNow = after!.seq

    // Old positions: recovered:false on every transport, positioned at the new head, no replay of the old epoch.
    const c = await ws(C, app)
    const resumed = await c.request({ op: 'subscribe', channel: 'restart', since: { epoch: sub.epoch, seq: before.seq } })
    expect(resumed).toMatchObject({ op: 'subscribed', channel: 'restart', epoch: after!.epoch, recovered: false })
    expect(resumed.seq).toBeGreaterThanOrEqual(seqNow)
    // A replay of the old epoch would come before a later message of the channel: publish one and wait for it.
    await publishOk(C, app, { channel: 'restart', data: 'no replay before me' })
    await until(() => c.messages('restart').length > 0, 10_000, 'the live message after the resume')
    expect(dataOf(c.messages('restart'))).toEqual(['no replay before me'])

    const sseAgain = await SseClient.open(A, app, 'restart', lastEventId)
    expect(sseAgain.of('subscribed')[0]!.data).toMatchObject({ channel: 'restart', epoch: after!.epoch, recovered: false })

    const polled = await poll(C, app, 'restart', { cursor, wait: 0 })
    expect(polled.recovered).toEqual({ restart: false })

    // And live delivery across nodes works again.
    const next = await publishOk(A, app, { channel: 'restart', data: 'again' })
    expect((await c.next((f: Frame) => f.op === 'message' && f.data === 'again')).seq).toBe(next.seq)
    await until(() => sseAgain.of('message').some((e) => e.data.data === 'again'), 10_000, 'SSE after the restart')

    // The control bus is back too: once both living nodes listen on it again, a key revoked
    // through A closes its connection on C.
    await controlListeners(2)
    await revokeAfterRestart(A, revocable)
    expect((await closedWithin(onC, 3000)).code).toBe(CloseCodes.unauthorized)

    c.close()
    live.close()
    sseAgain.close()
  })
})

describe('admin change during a Redis outage', () => {
  it('answers 500 at once (the change is stored), and repeating it once Redis is back reaches every node', async () => {
    const target = await createApp(A, {}, 'revoke-during-outage')
    const onC = await ws(C, target, await signToken(target, { sub: 'o', cap: { '*': ['subscribe'] } }))
    await cluster.redis.stop('SIGTERM')
    try {
      const res = await fetch(`${A.url}/admin/v1/apps/${target.appId}/keys/${target.keyId}`, {
        method: 'DELETE',
        headers: { authorization: `Bearer ${cluster.adminToken}` },
        signal: AbortSignal.timeout(15_000), // a backstop only: the answer must not wait for Redis
      })
      expect(res.status).toBe(500)
      expect(await res.json()).toMatchObject({ error: { code: 'internal' } })
    } finally {
      await cluster.redis.start()
    }
    // Stored: the key is listed as revoked.
    const read = await admin(C, 'GET', `/apps/${target.appId}`)
    expect(read.body.keys.find((k: { keyId: string }) => k.keyId === target.keyId).revokedAt).toEqual(expect.any(String))

    await controlListeners(2)
    await until(async () => (await fetch(`${A.url}/readyz`)).status === 200, 20_000, 'A ready again')
    await revokeAfterRestart(A, target)
    expect((await closedWithin(onC, 3000)).code).toBe(CloseCodes.unauthorized)
  })
})
