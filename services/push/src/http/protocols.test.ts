import { connect } from 'node:net'
import { OpenAPIHono } from '@hono/zod-openapi'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { MemoryBroker } from '../engine/broker-memory.js'
import { MemoryPresence } from '../engine/presence-memory.js'
import { PROTOCOLS } from '../node.js'
import type { ProtocolFactory } from './protocols.js'
import { startTestNode, type TestNode } from './stream-fixture.js'

/** A protocol of its own: an upgrade path that answers 418 with the matched key, and a route group. */
const teapot: ProtocolFactory = (ctx) => {
  const routes = new OpenAPIHono()
  routes.get('/:appId/sessions', async (c) =>
    c.json({ sessions: ctx.engine.sessions(c.req.param('appId')).length, app: (await ctx.engine.app(c.req.param('appId')))?.id ?? null }),
  )
  return {
    name: 'teapot',
    upgrades: [
      {
        path: /^\/teapot\/([a-z0-9]+)$/,
        handle: (_req, socket, _head, match) => socket.end(`HTTP/1.1 418 I'm a teapot ${match[1]}\r\nConnection: close\r\n\r\n`),
      },
    ],
    routes: [{ base: '/teapot', routes }],
  }
}

/** Sends a raw upgrade request and returns the status line. */
function upgrade(url: string, path: string): Promise<string> {
  const { port } = new URL(url)
  return new Promise((resolve, reject) => {
    const socket = connect(Number(port), '127.0.0.1', () => {
      socket.write(
        `GET ${path} HTTP/1.1\r\nHost: x\r\nConnection: Upgrade\r\nUpgrade: websocket\r\nSec-WebSocket-Version: 13\r\nSec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\n\r\n`,
      )
    })
    let text = ''
    socket.on('data', (d) => (text += d.toString()))
    socket.on('end', () => resolve(text.split('\r\n')[0]!))
    socket.on('error', reject)
  })
}

let t: TestNode
const broker = new MemoryBroker()
const presence = new MemoryPresence()

beforeAll(async () => {
  t = await startTestNode({}, { protocols: [...PROTOCOLS, teapot], broker, presence })
})
afterAll(async () => {
  await t?.stop()
})

describe('protocol registration and injected drivers', () => {
  it('runs the node on the drivers it was given', () => {
    expect(t.node.ctx.engine.broker).toBe(broker)
    expect(t.node.ctx.engine.presence).toBe(presence)
  })

  it('dispatches an upgrade to the protocol whose path matches, 404 for any other path', async () => {
    expect(await upgrade(t.url, '/teapot/abc?x=1')).toBe("HTTP/1.1 418 I'm a teapot abc")
    expect(await upgrade(t.url, '/nothing/here')).toBe('HTTP/1.1 404 Not Found')
  })

  it('mounts the protocol route groups beside the Herald routes, on the same engine', async () => {
    const app = await t.createApp()
    const res = await fetch(`${t.url}/teapot/${app.appId}/sessions`)
    expect(await res.json()).toEqual({ sessions: 0, app: app.appId })
    expect((await t.publish(app, { channel: 'c', data: 1 })).status).toBe(200)
  })
})
