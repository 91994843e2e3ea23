import { PusherCloseCodes } from '@herald/protocol'
import { request } from 'node:http'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { createApp, startHerald, type CreatedApp, type HeraldProcess } from './support/herald.js'
import { pusherServer } from './support/pusher.js'
import { until } from './support/ws-client.js'

/**
 * pusher-js's HTTP fallback sessions by hand (pusher-js itself is tested in
 * pusher-js-browser.test.ts): the SockJS-style framing, heartbeats, sends, refusals, and a
 * session its client abandoned, which must leave its presence channels.
 */

let h: HeraldProcess
let app: CreatedApp
let n = 0
const base = () => `${h.url}/pusher/app/${app.keyId}/123/s${++n}x`
const query = '?protocol=7&client=js&version=8.6.0'

beforeAll(async () => {
  h = await startHerald({ env: { HERALD_HEARTBEAT_SECONDS: '1' } })
  app = await createApp(h)
})
afterAll(async () => {
  await h?.stop()
})

/** One polling request: its lines. */
async function poll(session: string): Promise<string[]> {
  const res = await fetch(`${session}/xhr${query}`, { method: 'POST' })
  expect(res.status).toBe(200)
  return (await res.text()).split('\n').filter(Boolean)
}

/** Polls until a response carries events (a held poll may be answered with a bare heartbeat first). */
async function pollEvents(session: string): Promise<string[]> {
  for (;;) {
    const lines = await poll(session)
    if (lines.some((l) => l.startsWith('a'))) return lines
  }
}

const events = (lines: string[]) =>
  lines
    .filter((l) => l.startsWith('a'))
    .flatMap((l) => (JSON.parse(l.slice(1)) as string[]).map((t) => JSON.parse(t) as { event: string; channel?: string; data?: string }))

async function send(session: string, frames: unknown[]): Promise<number> {
  const res = await fetch(`${session}/xhr_send`, {
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify(frames.map((f) => JSON.stringify(f))),
  })
  return res.status
}

describe('xhr_polling sessions', () => {
  it('open with o and connection_established, deliver replies as a[…], heartbeat with h', async () => {
    const s = base()
    const first = await poll(s)
    expect(first[0]).toBe('o')
    const [hello] = events(first)
    expect(hello!.event).toBe('pusher:connection_established')
    expect(JSON.parse(hello!.data!)).toEqual({ socket_id: expect.stringMatching(/^\d+\.\d+$/), activity_timeout: 1 })
    expect(await send(s, [{ event: 'pusher:subscribe', data: { channel: 'news' } }])).toBe(204)
    const second = await pollEvents(s)
    expect(second).not.toContain('o')
    expect(events(second)).toEqual([{ event: 'pusher_internal:subscription_succeeded', channel: 'news', data: '{}' }])
    // Nothing to say: the held poll is answered with a heartbeat.
    expect(await poll(s)).toEqual(['h'])
  })

  it('answers unknown sessions and bad sends with HTTP errors', async () => {
    expect(await send(`${h.url}/pusher/app/${app.keyId}/1/nosuch`, [])).toBe(404)
    const s = base()
    await poll(s)
    const bad = await fetch(`${s}/xhr_send`, { method: 'POST', body: '{"not":"an array"}' })
    expect(bad.status).toBe(400)
    // On its own connection, announcing more than the limit: the server answers 413 from the
    // header alone, before any of the body is sent.
    const status = await new Promise<number>((resolve, reject) => {
      const req = request(`${s}/xhr_send`, { method: 'POST', agent: false, headers: { 'content-length': '1100000' } }, (res) => {
        resolve(res.statusCode ?? 0)
        req.destroy()
      })
      req.on('error', reject)
      req.flushHeaders()
    })
    expect(status).toBe(413)
    expect(await send(s, [])).toBe(204)
  })

  it('refuses an unknown key with o, pusher:error and c[4001,…]', async () => {
    const res = await fetch(`${h.url}/pusher/app/key_nope/1/abc/xhr${query}`, { method: 'POST' })
    const lines = (await res.text()).split('\n').filter(Boolean)
    expect(lines[0]).toBe('o')
    expect(events(lines)[0]).toMatchObject({ event: 'pusher:error' })
    expect(JSON.parse(lines[2]!.slice(1))[0]).toBe(PusherCloseCodes.appNotFound)
  })

  it('closes a session its client abandoned, leaving its presence channels', async () => {
    const s = base()
    const [hello] = events(await poll(s))
    const socketId = (JSON.parse(hello!.data!) as { socket_id: string }).socket_id
    const auth = pusherServer(h.port, app).authorizeChannel(socketId, 'presence-lobby', { user_id: 'gone-soon' }) as { auth: string; channel_data: string }
    await send(s, [{ event: 'pusher:subscribe', data: { channel: 'presence-lobby', ...auth } }])
    expect(events(await pollEvents(s))[0]).toMatchObject({ event: 'pusher_internal:subscription_succeeded', channel: 'presence-lobby' })
    const members = async () => {
      const res = await fetch(`${h.url}/v1/apps/${app.appId}/channels/presence-lobby/presence`, { headers: { authorization: app.basic } })
      return ((await res.json()) as { count: number }).count
    }
    expect(await members()).toBe(1)
    // The client stops polling: the session ends after the disconnect delay and leaves presence.
    await until(async () => (await members()) === 0, 30_000, 'the abandoned session left presence')
    expect(await send(s, [])).toBe(404)
  })
})

describe('xhr_streaming sessions', () => {
  it('stream o, events and heartbeats on one response, and end it with c[…] when the key is revoked', async () => {
    const res = await fetch(`${h.url}/admin/v1/apps/${app.appId}/keys`, {
      method: 'POST',
      headers: { authorization: `Bearer ${h.adminToken}`, 'content-type': 'application/json' },
      body: '{}',
    })
    const { key } = (await res.json()) as { key: { keyId: string } }
    const s = `${h.url}/pusher/app/${key.keyId}/7/stream1`
    const stream = await fetch(`${s}/xhr_streaming${query}`, { method: 'POST' })
    expect(stream.status).toBe(200)
    const reader = stream.body!.getReader()
    const decoder = new TextDecoder()
    let text = ''
    const lines = () => text.split('\n').filter(Boolean)
    const pump = (async () => {
      for (;;) {
        const { value, done } = await reader.read()
        if (done) return
        text += decoder.decode(value)
      }
    })()
    await until(() => lines().length >= 2, 10_000, 'o and connection_established')
    expect(lines()[0]).toBe('o')
    await send(s, [{ event: 'pusher:subscribe', data: { channel: 'ticker' } }])
    await until(() => events(lines()).some((e) => e.event === 'pusher_internal:subscription_succeeded'), 10_000, 'subscribed')
    await until(() => lines().includes('h'), 10_000, 'a heartbeat')
    await fetch(`${h.url}/admin/v1/apps/${app.appId}/keys/${key.keyId}`, { method: 'DELETE', headers: { authorization: `Bearer ${h.adminToken}` } })
    await pump
    const last = lines().at(-1)!
    expect(last.startsWith('c')).toBe(true)
    expect(JSON.parse(last.slice(1))[0]).toBe(PusherCloseCodes.appNotFound)
  })
})
