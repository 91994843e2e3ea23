import { mkdtempSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { CloseCodes, type Message } from '@herald/protocol'
import Pusher from 'pusher'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import type { App } from '../../apps/types.js'
import { loadConfig } from '../../config.js'
import type { EncodedMessage, EncodedPresence } from '../../engine/encoded.js'
import type { ClientSession } from '../../engine/session.js'
import type { EndError, Wire } from '../../engine/wire.js'
import { createNode, type HeraldNode } from '../../node.js'

/**
 * The HTTP API's effects on sessions, in one process: a real node on a free port, the real
 * `pusher` library calling it, and sessions opened through the engine with Pusher-style ids and
 * user ids (what the Pusher socket does on `pusher:signin`), so `terminate_connections` is
 * checked on the sessions themselves.
 */

const ADMIN = 'pusher-http-test-admin-token'
let node: HeraldNode
let dataDir: string
let port: number
let app: App
let pusher: Pusher

/** A wire that keeps the messages it is given and how it was ended. */
class RecordingWire implements Wire {
  readonly kind = 'test'
  readonly messages: Message[] = []
  ended: { code: number; reason: string; error?: EndError } | undefined
  session!: ClientSession
  bufferedBytes(): number {
    return 0
  }
  message(_channel: string, m: EncodedMessage): number {
    this.messages.push(m.message)
    return 0
  }
  presence(_channel: string, _p: EncodedPresence): number {
    return 0
  }
  end(code: number, reason: string, error?: EndError): void {
    this.ended = error ? { code, reason, error } : { code, reason }
    this.session.closed(code, reason)
  }
}

async function openSession(id: string, channels: string[], userId?: string): Promise<RecordingWire> {
  const wire = new RecordingWire()
  wire.session = node.ctx.engine.open({ app, identity: { kind: 'anonymous', appId: app.id }, wire, id, expires: false })
  if (userId !== undefined) wire.session.userId = userId
  for (const channel of channels) await wire.session.subscribe(channel, { authorized: true })
  return wire
}

beforeAll(async () => {
  dataDir = mkdtempSync(join(tmpdir(), 'herald-pusher-http-'))
  node = await createNode(loadConfig({ HERALD_HOST: '127.0.0.1', HERALD_PORT: '0', HERALD_DATA_DIR: dataDir, HERALD_ADMIN_TOKEN: ADMIN, HERALD_LOG_LEVEL: 'silent' }))
  port = await node.start()
  const res = await fetch(`http://127.0.0.1:${port}/admin/v1/apps`, {
    method: 'POST',
    headers: { authorization: `Bearer ${ADMIN}`, 'content-type': 'application/json' },
    body: JSON.stringify({ name: 'pusher-http' }),
  })
  const created = (await res.json()) as { app: { id: string }; key: { keyId: string; secret: string } }
  app = (await node.ctx.engine.app(created.app.id)) as App
  pusher = new Pusher({ appId: app.id, key: created.key.keyId, secret: created.key.secret, host: '127.0.0.1', port: String(port), useTLS: false })
})

afterAll(async () => {
  await node?.shutdown()
  rmSync(dataDir, { recursive: true, force: true })
})

describe('terminate_connections', () => {
  it("closes every session signed in as the user with forbidden (a Pusher wire's 4009), and no other", async () => {
    const first = await openSession('333.1', ['term'], 'u-7')
    const second = await openSession('333.2', [], 'u-7')
    const otherUser = await openSession('333.3', ['term'], 'u-8')
    const anonymous = await openSession('333.4', ['term'])
    const res = await pusher.terminateUserConnections('u-7')
    expect(await res.json()).toEqual({})
    // the control event is handled on this node before the reply
    expect(first.ended?.code).toBe(CloseCodes.forbidden)
    expect(second.ended?.code).toBe(CloseCodes.forbidden)
    expect(otherUser.ended).toBeUndefined()
    expect(anonymous.ended).toBeUndefined()
    expect(
      node.ctx.engine
        .sessions(app.id)
        .map((s) => s.id)
        .sort(),
    ).toEqual(['333.3', '333.4'])
    otherUser.session.close(CloseCodes.normal, 'done')
    anonymous.session.close(CloseCodes.normal, 'done')
  })
})
