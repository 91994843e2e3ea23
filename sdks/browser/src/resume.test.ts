import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest'
import { decodeCursor, encodeCursor, type Message, CloseCodes } from '@herald/protocol'
import { Client } from './client.js'
import type { SubscribedContext, UnrecoveredContext } from './subscription.js'
import { fakeEnv, msg } from './testing/fakes.js'

const flush = () => vi.advanceTimersByTimeAsync(10)

function setup(transports: Array<'websocket' | 'sse' | 'longpoll'>) {
  const fake = fakeEnv()
  const client = new Client({ url: 'http://herald.test', appId: 'app_1', env: fake.env, transports, backoff: { random: () => 0 } })
  const got: Message[] = []
  const subscribed: SubscribedContext[] = []
  const unrecovered: UnrecoveredContext[] = []
  const sub = client.subscribe('chat', (m) => got.push(m))
  sub.on('subscribed', (s) => subscribed.push(s))
  sub.on('unrecovered', (u) => unrecovered.push(u))
  return { ...fake, client, sub, got, subscribed, unrecovered, seqs: () => got.map((m) => `${m.epoch}:${m.seq}`) }
}

beforeEach(() => vi.useFakeTimers())
afterEach(() => vi.useRealTimers())

describe('resume over WebSocket', () => {
  it('subscribes when the connection opens, resumes with since, drops duplicates', async () => {
    const t = setup(['websocket'])
    await flush()
    let ws = t.lastSocket()
    ws.frame({ op: 'connected', connectionId: 'c1', heartbeat: 25 })
    const [sub1] = ws.ops('subscribe')
    expect(sub1).toMatchObject({ op: 'subscribe', channel: 'chat' })
    expect(sub1.since).toBeUndefined()
    ws.frame({ op: 'subscribed', channel: 'chat', epoch: 'e1', seq: 5, ref: sub1.ref })
    expect(t.subscribed).toEqual([{ channel: 'chat', epoch: 'e1', seq: 5, resumed: false, recovered: true }])
    for (const seq of [6, 7, 8]) ws.frame({ op: 'message', ...msg('chat', 'e1', seq) })
    ws.drop(1006)
    await flush()
    ws = t.lastSocket()
    ws.frame({ op: 'connected', connectionId: 'c2', heartbeat: 25 })
    expect(ws.ops('subscribe')[0]).toMatchObject({ channel: 'chat', since: { epoch: 'e1', seq: 8 } })
    ws.frame({ op: 'subscribed', channel: 'chat', epoch: 'e1', seq: 10, recovered: true })
    // the server repeats 7 and 8 (e.g. a race between live and history): dropped
    for (const seq of [7, 8, 9, 10, 8, 11]) ws.frame({ op: 'message', ...msg('chat', 'e1', seq) })
    expect(t.seqs()).toEqual(['e1:6', 'e1:7', 'e1:8', 'e1:9', 'e1:10', 'e1:11'])
    expect(t.subscribed.at(-1)).toEqual({ channel: 'chat', epoch: 'e1', seq: 10, resumed: true, recovered: true })
    expect(t.unrecovered).toEqual([])
  })

  it('reports an epoch change as recovered:false and an unrecovered event', async () => {
    const t = setup(['websocket'])
    await flush()
    let ws = t.lastSocket()
    ws.frame({ op: 'connected', connectionId: 'c1', heartbeat: 25 })
    ws.frame({ op: 'subscribed', channel: 'chat', epoch: 'e1', seq: 0 })
    ws.frame({ op: 'message', ...msg('chat', 'e1', 1) })
    ws.drop(CloseCodes.goingAway)
    await flush()
    ws = t.lastSocket()
    ws.frame({ op: 'connected', connectionId: 'c2', heartbeat: 25 })
    ws.frame({ op: 'subscribed', channel: 'chat', epoch: 'e2', seq: 0, recovered: false })
    ws.frame({ op: 'message', ...msg('chat', 'e2', 1) })
    expect(t.subscribed.at(-1)).toEqual({ channel: 'chat', epoch: 'e2', seq: 0, resumed: true, recovered: false })
    expect(t.unrecovered).toEqual([{ channel: 'chat', epoch: 'e2', seq: 0, previous: { epoch: 'e1', seq: 1 } }])
    expect(t.seqs()).toEqual(['e1:1', 'e2:1'])
  })

  it('rewinds on the first subscribe only, without dropping the rewound messages', async () => {
    const fake = fakeEnv()
    const client = new Client({ url: 'http://h.test', appId: 'a', env: fake.env, transports: ['websocket'] })
    const got: number[] = []
    client.subscribe('news', (m) => got.push(m.seq), { rewind: 2 })
    await flush()
    const ws = fake.lastSocket()
    ws.frame({ op: 'connected', connectionId: 'c', heartbeat: 25 })
    expect(ws.ops('subscribe')[0]).toMatchObject({ channel: 'news', rewind: 2 })
    ws.frame({ op: 'subscribed', channel: 'news', epoch: 'e', seq: 9 })
    for (const seq of [8, 9, 10]) ws.frame({ op: 'message', ...msg('news', 'e', seq) })
    expect(got).toEqual([8, 9, 10])
  })

  it('subscribes and unsubscribes on an open connection', async () => {
    const t = setup(['websocket'])
    await flush()
    const ws = t.lastSocket()
    ws.frame({ op: 'connected', connectionId: 'c1', heartbeat: 25 })
    const other = t.client.subscribe('other')
    expect(ws.ops('subscribe').map((f) => f.channel)).toEqual(['chat', 'other'])
    other.unsubscribe()
    expect(ws.ops('unsubscribe')).toMatchObject([{ channel: 'other' }])
    expect(t.client.getSubscription('other')).toBeUndefined()
  })
})

describe('resume over SSE', () => {
  it('reconnects with the cursor of the known channels, and reopens to add a channel', async () => {
    const t = setup(['sse'])
    await flush()
    let es = t.lastSource()
    expect(es.query('channels')).toBe('chat')
    expect(es.query('lastEventId')).toBeNull()
    es.emit('open')
    es.emit('subscribed', { channel: 'chat', epoch: 'e1', seq: 3 })
    es.emit('message', msg('chat', 'e1', 4), encodeCursor({ chat: { epoch: 'e1', seq: 4 } }))
    t.client.subscribe('news')
    await flush()
    expect(es.closed).toBe(true)
    es = t.lastSource()
    expect(es.query('channels')).toBe('chat,news')
    expect(decodeCursor(es.query('lastEventId')!)).toEqual({ chat: { epoch: 'e1', seq: 4 } })
    es.emit('open')
    es.emit('subscribed', { channel: 'chat', epoch: 'e1', seq: 4, recovered: true })
    es.emit('subscribed', { channel: 'news', epoch: 'n1', seq: 0 })
    expect(t.subscribed).toHaveLength(1) // reopening is invisible to 'chat'
    expect(t.client.state).toBe('connected')
    // the stream breaks: a new one resumes both channels, and duplicates are dropped
    es.emit('error')
    await flush()
    es = t.lastSource()
    expect(decodeCursor(es.query('lastEventId')!)).toEqual({ chat: { epoch: 'e1', seq: 4 }, news: { epoch: 'n1', seq: 0 } })
    es.emit('open')
    es.emit('subscribed', { channel: 'chat', epoch: 'e1', seq: 5, recovered: true })
    es.emit('message', msg('chat', 'e1', 4))
    es.emit('message', msg('chat', 'e1', 5))
    expect(t.seqs()).toEqual(['e1:4', 'e1:5'])
  })

  it('goes to failed on an error event from the server with code forbidden', async () => {
    const t = setup(['sse'])
    await flush()
    const es = t.lastSource()
    es.emit('open')
    es.emit('error', { code: 'forbidden', message: 'key revoked' })
    expect(t.client.state).toBe('failed')
  })

  it('probes a stream that failed before opening to learn the HTTP status', async () => {
    const t = setup(['sse'])
    const states: string[] = []
    t.client.on('state', (s) => states.push(`${s.current}:${s.reason}`))
    await flush()
    t.lastSource().emit('error')
    expect(t.requests[0]!.url).toBe(t.lastSource().url)
    t.requests[0]!.respond(401, { error: { code: 'unauthorized', message: 'no' } })
    await flush()
    expect(states).toEqual(['connecting:connect', 'failed:unauthorized'])
  })
})

describe('resume over long-poll', () => {
  it('polls at once first, then long-polls with the cursor; recovered:false is reported', async () => {
    const t = setup(['longpoll'])
    await flush()
    let req = t.requests[0]!
    expect(req.query('cursor')).toBeNull()
    expect(req.query('wait')).toBe('0')
    req.respond(200, { cursor: encodeCursor({ chat: { epoch: 'e1', seq: 2 } }), messages: [] })
    await flush()
    expect(t.client.transport).toBe('longpoll')
    expect(t.subscribed).toEqual([{ channel: 'chat', epoch: 'e1', seq: 2, resumed: false, recovered: true }])
    req = t.requests[1]!
    expect(req.query('wait')).toBe('25')
    expect(decodeCursor(req.query('cursor')!)).toEqual({ chat: { epoch: 'e1', seq: 2 } })
    req.respond(200, { cursor: encodeCursor({ chat: { epoch: 'e1', seq: 4 } }), messages: [msg('chat', 'e1', 2), msg('chat', 'e1', 3), msg('chat', 'e1', 4)] })
    await flush()
    expect(t.seqs()).toEqual(['e1:3', 'e1:4'])
    // network error: reconnect resumes from the last position; the server lost the history
    t.requests[2]!.fail()
    await flush()
    req = t.requests[3]!
    expect(req.query('wait')).toBe('0')
    expect(decodeCursor(req.query('cursor')!)).toEqual({ chat: { epoch: 'e1', seq: 4 } })
    req.respond(200, { cursor: encodeCursor({ chat: { epoch: 'e2', seq: 1 } }), messages: [msg('chat', 'e2', 1)], recovered: { chat: false } })
    await flush()
    expect(t.unrecovered).toEqual([{ channel: 'chat', epoch: 'e2', seq: 0, previous: { epoch: 'e1', seq: 4 } }])
    expect(t.subscribed.at(-1)).toMatchObject({ recovered: false, resumed: true })
    expect(t.seqs()).toEqual(['e1:3', 'e1:4', 'e2:1'])
  })

  it('restarts the loop with the new channel list when a channel is added', async () => {
    const t = setup(['longpoll'])
    await flush()
    t.requests[0]!.respond(200, { cursor: encodeCursor({ chat: { epoch: 'e1', seq: 2 } }), messages: [] })
    await flush()
    const waiting = t.requests[1]!
    t.client.subscribe('news')
    await flush()
    expect(waiting.aborted).toBe(true)
    const req = t.requests[2]!
    expect(req.query('channels')).toBe('chat,news')
    expect(req.query('wait')).toBe('0')
    expect(t.client.state).toBe('connected')
  })
})
