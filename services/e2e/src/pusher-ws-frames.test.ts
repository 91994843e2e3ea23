import { PusherCloseCodes, PusherErrorCodes } from '@herald/protocol'
import WebSocket from 'ws'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { metric, scrape } from './support/attack.js'
import { createApp, publish, startHerald, type CreatedApp, type HeraldProcess } from './support/herald.js'
import { pusherServer } from './support/pusher.js'

/**
 * The Pusher WebSocket with hand-written frames, for what pusher-js never sends: malformed and
 * oversized frames, refused client events pusher-js blocks itself, the server's activity check.
 */

interface Event {
  event: string
  channel?: string
  data?: any
}

class RawPusher {
  readonly events: Event[] = []
  readonly closed: Promise<{ code: number; reason: string }>
  private waiters: Array<() => void> = []

  constructor(readonly ws: WebSocket) {
    ws.on('message', (d) => {
      const e = JSON.parse(String(d)) as Event
      if (typeof e.data === 'string' && e.event !== 'client-raw') {
        try {
          e.data = JSON.parse(e.data)
        } catch {}
      }
      this.events.push(e)
      for (const w of this.waiters.splice(0)) w()
    })
    this.closed = new Promise((resolve) => ws.on('close', (code, reason) => resolve({ code, reason: String(reason) })))
  }

  static async open(url: string): Promise<RawPusher> {
    const c = new RawPusher(new WebSocket(url))
    await c.next((e) => e.event === 'pusher:connection_established')
    return c
  }

  get socketId(): string {
    return this.events.find((e) => e.event === 'pusher:connection_established')!.data.socket_id
  }

  send(frame: unknown): void {
    this.ws.send(typeof frame === 'string' ? frame : JSON.stringify(frame))
  }

  /** The first event (already seen or coming) that matches; each event is returned once. */
  async next(pred: (e: Event) => boolean, timeoutMs = 10_000): Promise<Event> {
    const deadline = Date.now() + timeoutMs
    for (;;) {
      const i = this.events.findIndex((e) => !(e as { seen?: boolean }).seen && pred(e))
      if (i >= 0) {
        ;(this.events[i] as { seen?: boolean }).seen = true
        return this.events[i]!
      }
      if (Date.now() > deadline) throw new Error('timed out; got ' + JSON.stringify(this.events.slice(-4)))
      await new Promise<void>((resolve) => {
        this.waiters.push(resolve)
        setTimeout(resolve, 200)
      })
    }
  }
}

let h: HeraldProcess
let app: CreatedApp
const url = (key = app.keyId, query = 'protocol=7&client=js&version=8.6.0') => `${h.wsUrl}/app/${key}?${query}`

beforeAll(async () => {
  h = await startHerald({ env: { HERALD_HEARTBEAT_SECONDS: '1', HERALD_MAX_FRAME_BYTES: '65536' } })
  app = await createApp(h, { clientEvents: true })
})
afterAll(async () => {
  await h?.stop()
})

describe('connection', () => {
  it('opens with a socket id and activity_timeout as JSON text, answers pusher:ping', async () => {
    const c = await RawPusher.open(url())
    const hello = c.events[0]!
    expect(hello.data).toEqual({ socket_id: expect.stringMatching(/^\d+\.\d+$/), activity_timeout: 1 })
    c.send({ event: 'pusher:ping', data: {} })
    await c.next((e) => e.event === 'pusher:pong')
    c.ws.close()
  })

  it('refuses a missing or unsupported protocol with 4008 / 4007 inside the socket', async () => {
    for (const [query, code] of [
      ['client=js', PusherCloseCodes.noProtocol],
      ['protocol=3', PusherCloseCodes.unsupportedProtocol],
    ] as const) {
      const c = new RawPusher(new WebSocket(url(app.keyId, query)))
      expect((await c.next((e) => e.event === 'pusher:error')).data.code).toBe(code)
      expect((await c.closed).code).toBe(code)
    }
  })

  it('pings an idle client and closes one that does not answer with 4201', async () => {
    const idle = await RawPusher.open(url())
    const alive = await RawPusher.open(url())
    alive.ws.on('message', (d) => String(d).includes('pusher:ping') && alive.send({ event: 'pusher:pong', data: {} }))
    await idle.next((e) => e.event === 'pusher:ping')
    expect((await idle.closed).code).toBe(PusherCloseCodes.pongNotReceived)
    // The one that answers its pings is still open after it answered two of them.
    await alive.next((e) => e.event === 'pusher:ping')
    await alive.next((e) => e.event === 'pusher:ping')
    expect(alive.ws.readyState).toBe(WebSocket.OPEN)
    alive.ws.close()
  })
})

describe('bad input', () => {
  it('answers malformed, binary and oversized frames with pusher:error; the socket and its neighbours keep working', async () => {
    const neighbour = await RawPusher.open(url())
    neighbour.send({ event: 'pusher:subscribe', data: { channel: 'calm' } })
    await neighbour.next((e) => e.event === 'pusher_internal:subscription_succeeded')
    const c = await RawPusher.open(url())
    for (const bad of [
      'garbage',
      '[]',
      '{"event":7}',
      '{"event":"pusher:subscribe","data":{}}',
      '{"event":"pusher:bogus"}',
      '{"event":"hello","channel":"x"}',
    ]) {
      c.send(bad)
      expect((await c.next((e) => e.event === 'pusher:error')).data.code).toBeGreaterThanOrEqual(4300)
    }
    c.ws.send(Buffer.from([1, 2, 3]), { binary: true })
    expect((await c.next((e) => e.event === 'pusher:error')).data.message).toContain('binary')
    c.send(JSON.stringify({ event: 'client-big', channel: 'private-a', data: 'x'.repeat(70_000) }))
    expect((await c.next((e) => e.event === 'pusher:error')).data.message).toContain('larger than')
    c.send({ event: 'pusher:subscribe', data: { channel: 'calm' } })
    await c.next((e) => e.event === 'pusher_internal:subscription_succeeded')
    await publish(h, app, { channel: 'calm', name: 'still', data: 1 })
    await c.next((e) => e.event === 'still')
    await neighbour.next((e) => e.event === 'still')
    c.ws.close()
    neighbour.ws.close()
  })

  it('refuses client events on encrypted channels and on channels the socket has not joined', async () => {
    const server = pusherServer(h.port, app)
    const c = await RawPusher.open(url())
    const channel = 'private-encrypted-vault'
    const auth = server.authorizeChannel(c.socketId, channel) as { auth: string }
    c.send({ event: 'pusher:subscribe', data: { channel, auth: auth.auth } })
    await c.next((e) => e.event === 'pusher_internal:subscription_succeeded')
    c.send({ event: 'client-x', channel, data: {} })
    expect((await c.next((e) => e.event === 'pusher:error')).data).toMatchObject({
      code: PusherErrorCodes.clientEventRejected,
      message: expect.stringContaining('encrypted'),
    })
    c.send({ event: 'client-x', channel: 'private-elsewhere', data: {} })
    expect((await c.next((e) => e.event === 'pusher:error')).data).toMatchObject({
      code: PusherErrorCodes.clientEventRejected,
      message: expect.stringContaining('not subscribed'),
    })
    c.send({ event: 'pusher:ping', data: {} })
    await c.next((e) => e.event === 'pusher:pong')
    c.ws.close()
  })

  it('refuses presence auth signed for another socket, and closes a forged sign-in with 4009', async () => {
    const server = pusherServer(h.port, app)
    const c = await RawPusher.open(url())
    const channelData = JSON.stringify({ user_id: 'u1' })
    const stolen = server.authorizeChannel('1234.5678', 'presence-x', { user_id: 'u1' }) as { auth: string }
    c.send({ event: 'pusher:subscribe', data: { channel: 'presence-x', auth: stolen.auth, channel_data: channelData } })
    const err = await c.next((e) => e.event === 'pusher:subscription_error')
    expect(err).toMatchObject({ channel: 'presence-x', data: { type: 'AuthError', status: 401 } })
    const signed = server.authenticateUser('1234.5678', { id: 'u1' }) as { auth: string; user_data: string }
    c.send({ event: 'pusher:signin', data: signed })
    expect((await c.next((e) => e.event === 'pusher:error')).data.code).toBe(PusherCloseCodes.unauthorized)
    expect((await c.closed).code).toBe(PusherCloseCodes.unauthorized)
  })

  it('signs a user in and lets it subscribe to its own #server-to-user channel only', async () => {
    const server = pusherServer(h.port, app)
    const c = await RawPusher.open(url())
    c.send({ event: 'pusher:subscribe', data: { channel: '#server-to-user-u9' } })
    expect((await c.next((e) => e.event === 'pusher:subscription_error')).data.status).toBe(403)
    const signed = server.authenticateUser(c.socketId, { id: 'u9', name: 'Nine' }) as { auth: string; user_data: string }
    c.send({ event: 'pusher:signin', data: signed })
    const ok = await c.next((e) => e.event === 'pusher:signin_success')
    expect(JSON.parse(ok.data.user_data)).toEqual({ id: 'u9', name: 'Nine' })
    c.send({ event: 'pusher:subscribe', data: { channel: '#server-to-user-u9' } })
    await c.next((e) => e.event === 'pusher_internal:subscription_succeeded' && e.channel === '#server-to-user-u9')
    c.send({ event: 'pusher:subscribe', data: { channel: '#server-to-user-someone-else' } })
    expect((await c.next((e) => e.event === 'pusher:subscription_error')).data.status).toBe(403)
    c.ws.close()
  })
})

describe('slow consumers', () => {
  it('closes a Pusher socket that stops reading with 4100; a reading neighbour gets every message in order', async () => {
    const slowNode = await startHerald({ env: { HERALD_SEND_BUFFER_BYTES: String(256 * 1024) } })
    try {
      const a = await createApp(slowNode, { publishRatePerSecond: 1_000_000, historySize: 10 })
      const open = async () => {
        const c = await RawPusher.open(`${slowNode.wsUrl}/app/${a.keyId}?protocol=7&client=js&version=8.6.0`)
        c.send({ event: 'pusher:subscribe', data: { channel: 'firehose' } })
        await c.next((e) => e.event === 'pusher_internal:subscription_succeeded')
        return c
      }
      const slow = await open()
      const reader = await open()
      ;(slow.ws as unknown as { _socket: { pause(): void; resume(): void } })._socket.pause()
      const drops = async () => metric(await scrape(slowNode), 'herald_slow_consumer_drops_total', { app: a.appId, transport: 'pusher-ws' })
      const payload = 'x'.repeat(4000)
      let sent = 0
      while ((await drops()) < 1) {
        const res = await publish(slowNode, a, {
          messages: Array.from({ length: 10 }, (_, i) => ({ channel: 'firehose', name: 'tick', data: { n: sent + i, payload } })),
        })
        expect(res.status).toBe(200)
        sent += 10
        expect(sent).toBeLessThan(50_000)
      }
      ;(slow.ws as unknown as { _socket: { resume(): void } })._socket.resume()
      expect((await slow.closed).code).toBe(PusherCloseCodes.overCapacity)
      await reader.next((e) => e.event === 'tick' && e.data.n === sent - 1, 30_000)
      const got = reader.events.filter((e) => e.event === 'tick').map((e) => e.data.n)
      expect(got).toEqual(Array.from({ length: sent }, (_, i) => i))
      reader.ws.close()
    } finally {
      await slowNode.stop()
    }
  })
})
