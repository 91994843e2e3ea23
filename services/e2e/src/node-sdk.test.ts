import { Herald, HeraldError } from '@herald/node'
import { EventSource } from 'eventsource'
import { CloseCodes, type ServerFrame } from '@herald/protocol'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import WebSocket from 'ws'
import { createApp, startHerald, type CreatedApp, type HeraldProcess } from './support/herald.js'
import { until } from './support/ws-client.js'

/** A raw WebSocket client that keeps every frame and waits for the one it needs. */
async function connect(h: HeraldProcess, appId: string, token?: string) {
  const ws = new WebSocket(`${h.wsUrl}/v1/apps/${appId}/ws${token ? `?token=${token}` : ''}`)
  const frames: ServerFrame[] = []
  const waiters = new Set<() => void>()
  ws.on('message', (data) => {
    frames.push(JSON.parse(String(data)) as ServerFrame)
    for (const w of waiters) w()
  })
  await new Promise<void>((resolve, reject) => {
    ws.once('open', () => resolve())
    ws.once('error', reject)
  })
  const next = <F extends ServerFrame>(pred: (f: ServerFrame) => boolean, timeoutMs = 15_000): Promise<F> =>
    new Promise((resolve, reject) => {
      const check = () => {
        const f = frames.find(pred)
        if (f) {
          waiters.delete(check)
          clearTimeout(timer)
          resolve(f as F)
        }
      }
      const timer = setTimeout(() => {
        waiters.delete(check)
        reject(new Error(`no matching frame; got ${JSON.stringify(frames)}`))
      }, timeoutMs)
      waiters.add(check)
      check()
    })
  return { ws, frames, next, send: (frame: object) => ws.send(JSON.stringify(frame)) }
}

let h: HeraldProcess
let app: CreatedApp
let herald: Herald
const sockets: WebSocket[] = []

beforeAll(async () => {
  h = await startHerald()
  app = await createApp(h)
  herald = new Herald({ url: h.url, appId: app.appId, keyId: app.keyId, secret: app.secret })
})

afterAll(async () => {
  for (const ws of sockets) ws.terminate()
  await h?.stop()
})

describe('@herald/node against a running service: publish', () => {
  it('publishes one message and reads it back from history', async () => {
    const result = await herald.publish('single', { text: 'hi' }, { name: 'greeting' })
    expect(result).toEqual({ channel: 'single', id: expect.stringMatching(/^sdk_/), seq: 1, epoch: expect.any(String) })
    const { epoch, messages } = await herald.history('single')
    expect(epoch).toBe(result.epoch)
    expect(messages).toEqual([
      { channel: 'single', id: result.id, seq: 1, epoch: result.epoch, name: 'greeting', data: { text: 'hi' }, ts: expect.any(Number) },
    ])
  })

  it('does not deliver a repeated caller id twice and answers the first seq', async () => {
    const first = await herald.publish('idem', 1, { id: 'order-1' })
    await herald.publish('idem', 2)
    const again = await herald.publish('idem', 1, { id: 'order-1' })
    expect(again).toEqual(first)
    const { messages } = await herald.history('idem')
    expect(messages.map((m) => m.data)).toEqual([1, 2])
  })

  it('publishes to a list of channels in one call', async () => {
    const results = await herald.publish(['multi-a', 'multi-b'], { n: 1 }, { name: 'both' })
    expect(results.map((r) => [r.channel, r.seq])).toEqual([
      ['multi-a', 1],
      ['multi-b', 1],
    ])
    for (const channel of ['multi-a', 'multi-b']) {
      const { messages } = await herald.history(channel)
      expect(messages).toHaveLength(1)
      expect(messages[0]).toMatchObject({ channel, name: 'both', data: { n: 1 } })
    }
  })

  it('publishes a batch in order, with seqs per channel', async () => {
    const results = await herald.publishBatch([
      { channel: 'batch-a', data: 1 },
      { channel: 'batch-b', data: 2, name: 'second' },
      { channel: 'batch-a', data: 3, id: 'given-id' },
    ])
    expect(results.map((r) => [r.channel, r.seq])).toEqual([
      ['batch-a', 1],
      ['batch-b', 1],
      ['batch-a', 2],
    ])
    expect(results[2]!.id).toBe('given-id')
    expect(new Set(results.map((r) => r.id)).size).toBe(3)
    expect((await herald.history('batch-a')).messages.map((m) => m.data)).toEqual([1, 3])
    expect((await herald.history('batch-b')).messages[0]).toMatchObject({ name: 'second', data: 2 })
  })

  it('publishes nothing of a batch with one invalid message', async () => {
    const badName = await herald
      .publishBatch([
        { channel: 'atomic-a', data: 1 },
        { channel: 'not valid!', data: 2 },
      ])
      .catch((e: unknown) => e)
    expect(badName).toBeInstanceOf(HeraldError)
    expect(badName).toMatchObject({ code: 'bad_request', status: 400 })

    const tooLarge = await herald
      .publishBatch([
        { channel: 'atomic-a', data: 'small' },
        { channel: 'atomic-b', data: 'x'.repeat(70_000) },
      ])
      .catch((e: unknown) => e)
    expect(tooLarge).toMatchObject({ code: 'too_large', status: 413 })

    expect((await herald.history('atomic-a')).messages).toEqual([])
    expect((await herald.history('atomic-b')).messages).toEqual([])
    // The channel still starts at seq 1: the rejected batches took no positions.
    expect((await herald.publish('atomic-a', 'after')).seq).toBe(1)
  })

  it('fails with a typed unauthorized error for a wrong secret, without retrying', async () => {
    const wrong = new Herald({ url: h.url, appId: app.appId, keyId: app.keyId, secret: app.secret + 'x' })
    const e = await wrong.publish('chat', 1).catch((err: unknown) => err)
    expect(e).toBeInstanceOf(HeraldError)
    expect(e).toMatchObject({ code: 'unauthorized', status: 401 })
  })
})

describe('@herald/node against a running service: history, members, channels', () => {
  it('reads history with limit and after', async () => {
    const channel = 'hist:room/1' // needs encoding as one path segment
    for (let i = 1; i <= 5; i++) await herald.publish(channel, i)
    const all = await herald.history(channel)
    expect(all.messages.map((m) => m.seq)).toEqual([1, 2, 3, 4, 5])
    expect(all.messages.every((m) => m.channel === channel)).toBe(true)
    expect((await herald.history(channel, { limit: 2 })).messages.map((m) => m.data)).toEqual([4, 5])
    expect((await herald.history(channel, { after: 1, limit: 2 })).messages.map((m) => m.data)).toEqual([2, 3])
    expect((await herald.history(channel, { after: 3 })).messages.map((m) => m.data)).toEqual([4, 5])
    expect((await herald.history(channel, { after: 5 })).messages).toEqual([])
  })

  it('lists presence members joined over a raw WebSocket with a createToken token', async () => {
    const token = await herald.createToken({ clientId: 'ann', capability: { 'presence-*': ['presence', 'subscribe'] }, info: { name: 'Ann' } })
    const client = await connect(h, app.appId, token)
    sockets.push(client.ws)
    expect(await client.next((f) => f.op === 'connected')).toMatchObject({ clientId: 'ann' })
    client.send({ op: 'subscribe', channel: 'presence-room', ref: 1 })
    await client.next((f) => f.op === 'subscribed' && f.channel === 'presence-room')
    await until(async () => (await herald.members('presence-room')).count === 1, 15_000, 'one member')
    expect(await herald.members('presence-room')).toEqual({ members: [{ clientId: 'ann', info: { name: 'Ann' } }], count: 1 })

    // the same clientId on a second connection is still one member
    const again = await connect(h, app.appId, token)
    sockets.push(again.ws)
    again.send({ op: 'subscribe', channel: 'presence-room' })
    await again.next((f) => f.op === 'subscribed' && f.channel === 'presence-room')
    expect((await herald.members('presence-room')).count).toBe(1)
    again.ws.close()
    client.ws.close()
    await until(async () => (await herald.members('presence-room')).count === 0, 15_000, 'no member')
    expect((await herald.members('presence-room')).members).toEqual([])
  })

  it('lists active channels by prefix with their subscriber counts', async () => {
    const a = await connect(h, app.appId)
    const b = await connect(h, app.appId)
    sockets.push(a.ws, b.ws)
    for (const [client, channel] of [
      [a, 'pfx:1'],
      [a, 'pfx:2'],
      [b, 'pfx:2'],
      [a, 'other'],
    ] as const) {
      client.send({ op: 'subscribe', channel })
      await client.next((f) => f.op === 'subscribed' && f.channel === channel)
    }
    const sorted = async () => (await herald.channels({ prefix: 'pfx:' })).channels.sort((x, y) => x.name.localeCompare(y.name))
    await until(async () => (await sorted()).length === 2, 15_000, 'two channels')
    expect(await sorted()).toEqual([
      { name: 'pfx:1', subscribers: 1 },
      { name: 'pfx:2', subscribers: 2 },
    ])
    const everything = (await herald.channels()).channels.map((c) => c.name)
    expect(everything).toEqual(expect.arrayContaining(['pfx:1', 'pfx:2', 'other']))
  })
})

describe('@herald/node tokens on the client transports', () => {
  it('are accepted by the WebSocket, whose capability they enforce', async () => {
    const token = await herald.createToken({ clientId: 'ws-user', capability: { 'private-ws': ['subscribe'] } })
    const client = await connect(h, app.appId, token)
    sockets.push(client.ws)
    expect(await client.next((f) => f.op === 'connected')).toMatchObject({ clientId: 'ws-user' })

    client.send({ op: 'subscribe', channel: 'private-ws', ref: 'ok' })
    expect(await client.next((f) => f.op === 'subscribed')).toMatchObject({ channel: 'private-ws', ref: 'ok', seq: 0 })
    const published = await herald.publish('private-ws', { hello: 'ws' }, { name: 'greet' })
    const message = await client.next((f) => f.op === 'message')
    expect(message).toMatchObject({ channel: 'private-ws', id: published.id, seq: published.seq, epoch: published.epoch, name: 'greet', data: { hello: 'ws' } })

    client.send({ op: 'subscribe', channel: 'private-other', ref: 'no' })
    expect(await client.next((f) => f.op === 'error')).toMatchObject({ ref: 'no', code: 'forbidden' })
    // the connection stays usable after a refused subscribe
    client.send({ op: 'ping', ref: 'p' })
    await client.next((f) => f.op === 'pong')
  })

  it(`are rejected by the WebSocket when signed with another secret: error frame, then close ${CloseCodes.unauthorized}`, async () => {
    const forged = await new Herald({ url: h.url, appId: app.appId, keyId: app.keyId, secret: 'not-the-secret' }).createToken({ clientId: 'x' })
    const ws = new WebSocket(`${h.wsUrl}/v1/apps/${app.appId}/ws?token=${forged}`)
    sockets.push(ws)
    const frames: ServerFrame[] = []
    ws.on('message', (data) => frames.push(JSON.parse(String(data)) as ServerFrame))
    const code = await new Promise<number>((resolve) => ws.once('close', (c) => resolve(c)))
    expect(code).toBe(CloseCodes.unauthorized)
    expect(frames).toEqual([{ op: 'error', code: 'unauthorized', message: expect.any(String) }])
  })

  it('are accepted by SSE (EventSource), whose capability they enforce with 403', async () => {
    const token = await herald.createToken({ clientId: 'sse-user', capability: { 'private-sse': ['subscribe'] } })
    const es = new EventSource(`${h.url}/v1/apps/${app.appId}/sse?channels=private-sse&token=${token}`)
    try {
      const subscribed = await new Promise<MessageEvent>((resolve, reject) => {
        es.addEventListener('subscribed', resolve)
        es.addEventListener('error', (e) => reject(new Error(`sse error ${JSON.stringify(e)}`)))
      })
      expect(JSON.parse(subscribed.data)).toMatchObject({ channel: 'private-sse', seq: 0 })
      const received = new Promise<MessageEvent>((resolve) => es.addEventListener('message', resolve))
      const published = await herald.publish('private-sse', [1, 2, 3])
      const event = await received
      expect(JSON.parse(event.data)).toMatchObject({ channel: 'private-sse', id: published.id, seq: published.seq, data: [1, 2, 3] })
      expect(event.lastEventId.length).toBeGreaterThan(0)
    } finally {
      es.close()
    }

    const res = await fetch(`${h.url}/v1/apps/${app.appId}/sse?channels=private-sse,private-nope&token=${token}`)
    expect(res.status).toBe(403)
    expect(await res.json()).toMatchObject({ error: { code: 'forbidden' } })

    const refused = new EventSource(`${h.url}/v1/apps/${app.appId}/sse?channels=private-nope&token=${token}`)
    try {
      const error = await new Promise<{ code?: number }>((resolve) => refused.addEventListener('error', (e) => resolve(e as { code?: number })))
      expect(error.code).toBe(403)
    } finally {
      refused.close()
    }
  })
})
