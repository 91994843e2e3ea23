import { CloseCodes } from '@herald/protocol'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { expectAlive, metric, scrape } from './support/attack.js'
import { createApp, publish, startHerald, type CreatedApp, type HeraldProcess } from './support/herald.js'
import { until, WsClient } from './support/ws-client.js'

/**
 * A subscriber that stops reading is closed as a slow consumer (4008). Its socket is kept until
 * the close frame can go out (or ws's 30 s close timeout), so a client that resumes reading
 * after a stall of a few seconds reads why it was closed instead of seeing the connection cut
 * (1006); and what it reads before the close is the channel's messages in order, never a torn
 * frame.
 */

/** The server used to destroy a closed slow consumer's socket this long after the close. */
const OLD_GRACE_MS = 2000

let h: HeraldProcess
let app: CreatedApp

beforeAll(async () => {
  h = await startHerald({ env: { HERALD_SEND_BUFFER_BYTES: String(64 * 1024) } })
  app = await createApp(h, { publishRatePerSecond: 1_000_000, historySize: 10 })
})
afterAll(async () => {
  await h?.stop()
})

describe('slow consumer close', () => {
  it('a stalled-then-resumed WebSocket subscriber reads the slow-consumer close code (4008) after the messages it had', async () => {
    const c = await WsClient.connect(`${h.wsUrl}/v1/apps/${app.appId}/ws`)
    await c.request({ op: 'subscribe', channel: 'firehose' })
    // stop reading: the kernel buffers fill, then the server's queue for this socket
    ;(c.ws as any)._socket.pause()

    const drops = async () => metric(await scrape(h), 'herald_slow_consumer_drops_total', { app: app.appId, transport: 'websocket' })
    const payload = 'x'.repeat(4000)
    let sent = 0
    while ((await drops()) < 1) {
      const res = await publish(h, app, { messages: Array.from({ length: 10 }, (_, i) => ({ channel: 'firehose', data: { n: sent + i, payload } })) })
      expect(res.status, JSON.stringify(res.body)).toBe(200)
      sent += 10
      expect(sent).toBeLessThan(50_000)
    }
    // The session is gone from the server's view at once (connections, limits), whatever the socket does.
    await until(async () => metric(await scrape(h), 'herald_connections', { app: app.appId }) === 0, 10_000, 'the slow session to be closed')

    // The client stays stalled for longer than the old grace: the case under test is a stall of seconds.
    await new Promise((resolve) => setTimeout(resolve, OLD_GRACE_MS * 2))
    ;(c.ws as any)._socket.resume()

    const closed = await c.closed
    expect(closed).toEqual({ code: CloseCodes.rateLimited, reason: 'too slow to keep up' })
    const got = c.messages('firehose').map((m) => m.data.n)
    expect(got.length).toBeGreaterThan(0)
    expect(got.length).toBeLessThan(sent)
    expect(got).toEqual(Array.from({ length: got.length }, (_, i) => i))
    await expectAlive(h)
  })
})
