import { encodeCursor, ErrorCodes } from '@herald/protocol'
import fc from 'fast-check'
import WebSocket from 'ws'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { expectAlive, expectContractAnswer, http, retryOnReset, sseAttempt, wsAttempt, type RawResponse } from './support/attack.js'
import { createApp, publish, signToken, startHerald, type CreatedApp, type HeraldProcess } from './support/herald.js'
import { WsClient, type Frame } from './support/ws-client.js'

/**
 * Property: whatever a client sends (WebSocket frames, REST bodies, admin bodies, query
 * strings, cursors), it gets a contract error or a correct answer, never `internal`, and the
 * server stays up. After each property: /healthz 200 and the process is running; at the end a
 * normal publish/subscribe still works.
 */

let h: HeraldProcess
let app: CreatedApp
let token: string
const adminHeaders = () => ({ authorization: `Bearer ${h.adminToken}`, 'content-type': 'application/json' })

beforeAll(async () => {
  h = await startHerald()
  app = await createApp(h, { publishRatePerSecond: 1_000_000 }, 'fuzz')
  token = await signToken(app, { sub: 'fuzzer', cap: { '*': ['subscribe', 'publish', 'presence', 'history'] }, info: { f: 1 } })
  // something to find in history and cursors
  for (let i = 0; i < 5; i++) await publish(h, app, { channel: 'seeded', data: i, name: 'n' })
})
afterAll(async () => {
  await h?.stop()
})

// ---- arbitraries -------------------------------------------------------------------------

const OPS = ['subscribe', 'unsubscribe', 'publish', 'history', 'members', 'auth', 'ping']
const validChannel = fc.stringMatching(/^[A-Za-z0-9_\-=@.;:/]{1,20}$/)
const weird = fc.oneof(
  fc.constantFrom(
    null,
    true,
    false,
    0,
    -1,
    1e308,
    -1e308,
    2 ** 53,
    2 ** 53 + 2,
    1.5,
    '',
    ' ',
    '\u0000',
    'presence-x',
    'private-x',
    '*',
    '..',
    'a,b',
    '💥',
    'x'.repeat(300),
  ),
  fc.integer(),
  fc.double(),
  fc.string({ unit: 'binary', maxLength: 40 }),
  fc.jsonValue({ maxDepth: 3 }),
)
const channelish = fc.oneof(validChannel, weird, fc.constant('seeded'), fc.constant('presence-room'))

/** Frames of the right shape with fields of any type or value. */
const nearValidFrame = fc
  .record(
    {
      op: fc.oneof(fc.constantFrom(...OPS), weird),
      channel: channelish,
      since: fc.oneof(fc.record({ epoch: fc.oneof(fc.string({ maxLength: 80 }), weird), seq: fc.oneof(fc.nat(), weird) }), weird),
      rewind: fc.oneof(fc.integer({ min: -5, max: 20_000 }), weird),
      limit: fc.oneof(fc.integer({ min: -5, max: 5000 }), weird),
      after: fc.oneof(fc.integer({ min: -5, max: 5000 }), weird),
      data: fc.jsonValue({ maxDepth: 4 }),
      name: fc.oneof(fc.string({ maxLength: 250 }), weird),
      id: fc.oneof(fc.string({ maxLength: 140 }), weird),
      token: fc.oneof(fc.string({ maxLength: 100 }), weird, fc.constant('TOKEN')),
      ref: fc.oneof(fc.string({ maxLength: 80 }), fc.integer(), weird),
      extra: weird,
    },
    { requiredKeys: ['op'] },
  )
  .map((f) => JSON.stringify(f).replace('"TOKEN"', () => JSON.stringify(token)))

/** Nesting up to 100,000 levels: frames stay under the 1 MiB frame limit (past it the close is `CloseCodes.frameTooLarge`, tested elsewhere). */
const deep = fc
  .integer({ min: 1, max: 100_000 })
  .chain((depth) =>
    fc.constantFrom(
      `{"op":"publish","channel":"deep","data":${'['.repeat(depth)}${']'.repeat(depth)}}`,
      `{"op":"publish","channel":"deep","data":${'{"a":'.repeat(depth)}1${'}'.repeat(depth)}}`,
      `{"op":"subscribe","channel":${'['.repeat(depth)}${']'.repeat(depth)}}`,
      '['.repeat(depth),
    ),
  )

const hugeNumbers = fc.constantFrom(
  '{"op":"history","channel":"seeded","limit":1e400}',
  '{"op":"history","channel":"seeded","after":-1e400}',
  '{"op":"history","channel":"seeded","after":123456789012345678901234567890}',
  '{"op":"subscribe","channel":"big-n","since":{"epoch":"e_x","seq":1e21}}',
  '{"op":"subscribe","channel":"big-n2","rewind":9007199254740993}',
  '{"op":"ping","ref":1e400}',
  '{"op":"ping","ref":-0}',
  '{"op":"publish","channel":"nums","data":1e400}',
  '{"op":"publish","channel":"nums","data":-0}',
  '{"op":"ping","__proto__":{"polluted":true}}',
  '{"op":"subscribe","channel":"constructor"}',
  '{"op":"subscribe","channel":"__proto__"}',
)

const wsText = fc.oneof(
  { weight: 3, arbitrary: nearValidFrame },
  { weight: 2, arbitrary: fc.json({ maxDepth: 4 }) },
  { weight: 2, arbitrary: fc.string({ unit: 'binary', maxLength: 200 }) },
  { weight: 1, arbitrary: deep },
  { weight: 1, arbitrary: hugeNumbers },
)

// ---- WebSocket ---------------------------------------------------------------------------

const REPLY_OPS = new Set(['error', 'subscribed', 'unsubscribed', 'published', 'history', 'members', 'authed', 'pong'])
const PUSH_OPS = new Set(['message', 'presence'])
const CODES = new Set<string>(ErrorCodes)

describe('fuzzing WebSocket frames', () => {
  it('answers every text frame with exactly one reply (a contract error or an answer) and keeps the connection', async () => {
    const c = await WsClient.connect(`${h.wsUrl}/v1/apps/${app.appId}/ws?token=${encodeURIComponent(token)}`)
    let sync = 0
    await fc.assert(
      fc.asyncProperty(wsText, async (text) => {
        const from = c.frames.length
        const ref = `sync-${++sync}`
        c.send(text)
        c.send({ op: 'ping', ref })
        await c.next((f) => f.ref === ref && f.op === 'pong', 15_000)
        const got: Frame[] = c.frames.slice(
          from,
          c.frames.findIndex((f, i) => i >= from && f.ref === ref),
        )
        const replies = got.filter((f) => !PUSH_OPS.has(f.op))
        expect(replies, `input ${text.slice(0, 200)}`).toHaveLength(1)
        const reply = replies[0]!
        expect(REPLY_OPS.has(reply.op), JSON.stringify(reply)).toBe(true)
        if (reply.op === 'error') {
          expect(CODES.has(reply.code), JSON.stringify(reply)).toBe(true)
          expect(reply.code, `input ${text.slice(0, 300)} -> ${JSON.stringify(reply)}`).not.toBe('internal')
          expect(typeof reply.message).toBe('string')
        }
      }),
      { numRuns: 400 },
    )
    expect(c.ws.readyState).toBe(WebSocket.OPEN)
    c.close()
    await expectAlive(h)
  })

  it('answers binary frames with bad_request and closes invalid UTF-8 text with 1007', async () => {
    const bin = await wsAttempt(`${h.wsUrl}/v1/apps/${app.appId}/ws`, {
      onOpen: (ws) => ws.send(Buffer.from([0xff, 0x00, 0x7b]), { binary: true }),
      closeAfterMs: 1000,
    })
    expect(bin.frames.map((f) => f.op)).toEqual(['connected', 'error'])
    expect(bin.frames[1]).toMatchObject({ code: 'bad_request' })
    // a text frame that is not UTF-8 is a protocol error (RFC 6455 §8.1): 1007
    const raw = await wsAttempt(`${h.wsUrl}/v1/apps/${app.appId}/ws`, {
      onOpen: (ws) => {
        const socket = (ws as any)._socket
        // masked text frame with payload ff fe (mask 0)
        socket.write(Buffer.from([0x81, 0x82, 0, 0, 0, 0, 0xff, 0xfe]))
      },
    })
    expect(raw.code).toBe(1007)
    await expectAlive(h)
  })
})

/** One request, retried once when it reused a keep-alive socket the server had closed ({@link retryOnReset}). */
async function httpFresh(method: string, path: string, options: Parameters<typeof http>[3]): Promise<RawResponse> {
  return retryOnReset(() => http(h.url, method, path, options))
}

// ---- REST bodies ---------------------------------------------------------------------------

const publishBody = fc
  .oneof(
    fc.record(
      {
        channel: channelish,
        channels: fc.oneof(fc.array(channelish, { maxLength: 5 }), weird),
        name: fc.oneof(fc.string({ maxLength: 250 }), weird),
        data: fc.jsonValue({ maxDepth: 3 }),
        id: fc.oneof(fc.string({ maxLength: 140 }), weird),
        extra: weird,
      },
      { requiredKeys: [] },
    ),
    fc.record({
      messages: fc.oneof(
        fc.array(fc.record({ channel: channelish, data: fc.jsonValue({ maxDepth: 2 }), name: weird, id: weird }, { requiredKeys: ['channel'] }), {
          maxLength: 105,
        }),
        weird,
      ),
    }),
    fc.jsonValue({ maxDepth: 3 }),
  )
  .map((v) => JSON.stringify(v))
const rawBody = fc.oneof(
  { weight: 4, arbitrary: publishBody },
  { weight: 1, arbitrary: fc.string({ unit: 'binary', maxLength: 200 }) },
  { weight: 1, arbitrary: deep.map((d) => d.replace('"op":"publish",', '')) },
  {
    weight: 1,
    arbitrary: fc.constantFrom(
      '',
      'null',
      '[]',
      '{',
      '{"channel":"x","data":1e400}',
      '{"channel":"x","data":1}{"channel":"y"}',
      '\ufeff{"channel":"x","data":1}',
    ),
  },
)
const contentType = fc.constantFrom(
  'application/json',
  'application/json; charset=utf-8',
  'text/plain',
  'application/x-www-form-urlencoded',
  'multipart/form-data; boundary=x',
  '',
  'application/json; charset=latin1',
)

describe('fuzzing REST bodies', () => {
  it('POST /v1/apps/:appId/messages answers every body within the contract', async () => {
    await fc.assert(
      fc.asyncProperty(rawBody, contentType, fc.constantFrom('basic', 'bearer'), async (body, type, auth) => {
        const headers: Record<string, string> = { authorization: auth === 'basic' ? app.basic : `Bearer ${token}` }
        if (type) headers['content-type'] = type
        const res = await httpFresh('POST', `/v1/apps/${app.appId}/messages`, { headers, body })
        expectContractAnswer(res, `body ${body.slice(0, 200)} (${type})`)
        if (res.status === 200) expect(res.json.messages.length).toBeGreaterThan(0)
      }),
      { numRuns: 300 },
    )
    await expectAlive(h)
  })

  it('admin endpoints answer every body and id within the contract', async () => {
    const target = await retryOnReset(() => createApp(h, {}, 'patched by the fuzzer'))
    const settings = fc.dictionary(
      fc.constantFrom(
        'anonymousSubscribe',
        'maxMessageBytes',
        'historySize',
        'historyTtlSeconds',
        'maxConnections',
        'publishRatePerSecond',
        'maxTokenTtlSeconds',
        'allowedOrigins',
        'nope',
      ),
      fc.oneof(
        weird,
        fc.integer({ min: -10, max: 2_000_000 }),
        fc.array(fc.oneof(fc.constantFrom('*', 'https://a.example', 'http://x'), fc.string()), { maxLength: 3 }),
      ),
      { maxKeys: 4 },
    )
    const adminCall = fc.oneof(
      fc.record({
        method: fc.constant('POST'),
        path: fc.constant('/admin/v1/apps'),
        body: fc
          .oneof(
            fc.record({ name: fc.oneof(fc.string({ maxLength: 300 }), weird), settings: fc.oneof(settings, weird) }, { requiredKeys: [] }),
            fc.jsonValue({ maxDepth: 2 }),
          )
          .map((b) => JSON.stringify(b)),
      }),
      fc.record({
        method: fc.constant('PATCH'),
        path: fc.constant(`/admin/v1/apps/${target.appId}`),
        body: fc
          .record({ name: fc.oneof(fc.string({ maxLength: 300 }), weird), settings: fc.oneof(settings, weird) }, { requiredKeys: [] })
          .map((b) => JSON.stringify(b)),
      }),
      fc.record({
        method: fc.constant('POST'),
        path: fc.constant(`/admin/v1/apps/${target.appId}/keys`),
        body: fc
          .oneof(
            fc.record(
              {
                label: fc.oneof(fc.string({ maxLength: 300 }), weird),
                capability: fc.oneof(
                  fc.dictionary(
                    fc.oneof(fc.string({ maxLength: 20 }), fc.constant('*')),
                    fc.array(fc.oneof(fc.constantFrom('subscribe', 'publish', 'presence', 'history'), fc.string()), { maxLength: 3 }),
                    { maxKeys: 3 },
                  ),
                  weird,
                ),
              },
              { requiredKeys: [] },
            ),
            weird,
          )
          .map((b) => JSON.stringify(b)),
      }),
      fc.record({
        method: fc.constantFrom('GET', 'DELETE', 'PATCH'),
        path: fc.string({ unit: 'binary', maxLength: 80 }).map((s) => `/admin/v1/apps/${encodeURIComponent(s)}`),
        body: fc.constant('{}'),
      }),
      fc.record({
        method: fc.constantFrom('DELETE'),
        path: fc.string({ maxLength: 80 }).map((s) => `/admin/v1/apps/${target.appId}/keys/${encodeURIComponent(s)}`),
        body: fc.constant(''),
      }),
      fc.record({
        method: fc.constant('GET'),
        path: fc.string({ maxLength: 40 }).map((s) => `/admin/v1/apps/${encodeURIComponent(s)}/stats`),
        body: fc.constant(''),
      }),
    )
    await fc.assert(
      fc.asyncProperty(adminCall, async ({ method, path, body }) => {
        const res = await httpFresh(method, path, { headers: adminHeaders(), ...(method === 'GET' || method === 'DELETE' ? {} : { body }) })
        expectContractAnswer(res, `${method} ${path} ${body.slice(0, 200)}`)
      }),
      { numRuns: 250 },
    )
    // the app that was patched at random still has valid settings and a working key
    const read = await httpFresh('GET', `/admin/v1/apps/${target.appId}`, { headers: adminHeaders() })
    expect(read.status).toBe(200)
    expect(read.json.keys.length).toBeGreaterThan(0)
    await expectAlive(h)
  })
})

// ---- query strings and cursors -----------------------------------------------------------

const queryValue = fc.oneof(
  fc.constantFrom(
    '',
    '0',
    '-1',
    '1',
    '30',
    '31',
    '1e3',
    '1.5',
    'NaN',
    'Infinity',
    '0x10',
    '99999999999999999999',
    ' 1',
    '%',
    '%ZZ',
    '%00',
    '%E2%82',
    'a,b',
    ',,,',
    'seeded',
    'seeded,seeded',
    'presence-room',
    'private-x',
  ),
  fc.string({ unit: 'binary', maxLength: 60 }).map(encodeURIComponent),
  fc.string({ maxLength: 30 }).map(encodeURIComponent),
  fc.nat({ max: 100_000 }).map(String),
)
const cursorValue = fc.oneof(
  fc.base64String({ maxLength: 120 }).map((s) => s.replace(/\+/g, '-').replace(/\//g, '_').replace(/=+$/, '')),
  fc.string({ unit: 'binary', maxLength: 80 }),
  fc
    .record({
      channel: fc.oneof(fc.constant('seeded'), fc.string({ maxLength: 10 })),
      epoch: fc.oneof(fc.constant('e_x'), fc.string({ maxLength: 20 })),
      seq: fc.oneof(fc.nat(), fc.integer(), fc.constant(2 ** 60)),
    })
    .map(({ channel, epoch, seq }) => {
      try {
        return encodeCursor({ [channel]: { epoch, seq } })
      } catch {
        return channel
      }
    }),
)
const params = ['limit', 'after', 'prefix', 'cursor', 'wait', 'channels', 'rewind', 'token', 'lastEventId', 'events'] as const
const queryString = fc.dictionary(fc.constantFrom(...params), queryValue, { maxKeys: 5 }).map((q) =>
  Object.entries(q)
    .map(([k, v]) => `${k}=${v}`)
    .join('&'),
)

async function pollAnswer(path: string): Promise<RawResponse | 'held'> {
  try {
    return await httpFresh('GET', path, { timeoutMs: 2000 })
  } catch (err) {
    if ((err as Error).name === 'TimeoutError') return 'held' // a long-poll holding is a correct answer
    throw err
  }
}

describe('fuzzing query strings and cursors', () => {
  it('history, presence and channel lists answer any query and path within the contract', async () => {
    await fc.assert(
      fc.asyncProperty(
        queryString,
        fc.oneof(fc.constant('seeded'), fc.string({ unit: 'binary', maxLength: 50 }).map(encodeURIComponent)),
        fc.constantFrom('messages', 'presence', 'list'),
        async (q, channel, what) => {
          const path = what === 'list' ? `/v1/apps/${app.appId}/channels?${q}` : `/v1/apps/${app.appId}/channels/${channel}/${what}?${q}`
          const res = await httpFresh('GET', path, { headers: { authorization: app.basic } })
          expectContractAnswer(res, `GET ${path}`)
        },
      ),
      { numRuns: 250 },
    )
    await expectAlive(h)
  })

  it('poll answers any query within the contract (or holds)', async () => {
    await fc.assert(
      fc.asyncProperty(queryString, async (q) => {
        const path = `/v1/apps/${app.appId}/poll?${q}`
        const res = await pollAnswer(path)
        if (res !== 'held') expectContractAnswer(res, `GET ${path}`)
      }),
      { numRuns: 200 },
    )
    await expectAlive(h)
  })

  it('poll and SSE refuse random, truncated and mutated cursors with bad_request or resume correctly', async () => {
    const first = await httpFresh('GET', `/v1/apps/${app.appId}/poll?channels=seeded,other&rewind=2&wait=0`, {})
    expect(first.status).toBe(200)
    const real = first.json.cursor as string
    const mutated = fc.oneof(
      cursorValue,
      fc.nat({ max: real.length }).map((n) => real.slice(0, n)),
      fc.tuple(fc.nat({ max: real.length - 1 }), fc.string({ minLength: 1, maxLength: 1 })).map(([i, ch]) => real.slice(0, i) + ch + real.slice(i + 1)),
      fc.tuple(fc.nat({ max: real.length }), fc.string({ maxLength: 5 })).map(([i, s]) => real.slice(0, i) + s + real.slice(i)),
    )
    await fc.assert(
      fc.asyncProperty(mutated, fc.constantFrom('poll', 'sse-header', 'sse-query'), async (cursor, where) => {
        if (where === 'poll') {
          const path = `/v1/apps/${app.appId}/poll?channels=seeded,other&wait=0&cursor=${encodeURIComponent(cursor)}`
          const res = await pollAnswer(path)
          if (res === 'held') return
          expectContractAnswer(res, `cursor ${JSON.stringify(cursor)}`)
          if (res.status === 200) for (const m of res.json.messages) expect(['seeded', 'other']).toContain(m.channel)
          else expect(res.json.error.code).toBe('bad_request')
          return
        }
        const url = `${h.url}/v1/apps/${app.appId}/sse?channels=seeded,other${where === 'sse-query' ? `&lastEventId=${encodeURIComponent(cursor)}` : ''}`
        let headerValue: string | undefined
        if (where === 'sse-header') {
          // a header cannot carry every character: send what a client could
          headerValue = cursor.replace(/[^\x20-\x7e]/g, '')
        }
        const res = await sseAttempt(url, {
          headers: headerValue !== undefined ? { 'last-event-id': headerValue } : {},
          until: (t) => t.includes('event: subscribed') || t.includes('event: error'),
        })
        if (res.status === 200) {
          expect(res.headers.get('content-type')).toMatch(/^text\/event-stream/)
          expect(res.text).not.toMatch(/event: error/)
        } else {
          expectContractAnswer(res as RawResponse, `sse cursor ${JSON.stringify(cursor)}`)
          expect(res.json.error.code).toBe('bad_request')
        }
      }),
      { numRuns: 200 },
    )
    await expectAlive(h)
  })

  it('SSE answers any query within the contract', async () => {
    await fc.assert(
      fc.asyncProperty(queryString, async (q) => {
        const res = await sseAttempt(`${h.url}/v1/apps/${app.appId}/sse?${q}`, { until: (t) => t.includes('\n\n') })
        if (res.status === 200) expect(res.headers.get('content-type')).toMatch(/^text\/event-stream/)
        else expectContractAnswer(res as RawResponse, `sse ?${q}`)
      }),
      { numRuns: 150 },
    )
    await expectAlive(h)
  })
})

describe('after the fuzzing', () => {
  it('still publishes and delivers normally', async () => {
    const c = await WsClient.connect(`${h.wsUrl}/v1/apps/${app.appId}/ws`)
    await c.request({ op: 'subscribe', channel: 'after-fuzz' })
    const res = await publish(h, app, { channel: 'after-fuzz', data: { ok: true } })
    expect(res.status).toBe(200)
    expect(await c.next((f) => f.op === 'message')).toMatchObject({ channel: 'after-fuzz', data: { ok: true }, seq: 1 })
    c.close()
    await expectAlive(h)
  })
})
