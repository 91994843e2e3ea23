import type { ServerResponse } from 'node:http'
import { afterEach, describe, expect, it } from 'vitest'
import { HeraldAdmin } from './admin.js'
import { HeraldError } from './errors.js'
import { drop, json, startScriptServer, type Handler, type Recorded, type ScriptServer } from './test-support/server.js'

let server: ScriptServer | undefined
afterEach(async () => {
  await server?.close()
  server = undefined
})

async function setup(script: Handler[], options: { retries?: number } = {}) {
  server = await startScriptServer(script)
  const admin = new HeraldAdmin({ url: `${server.url}/`, adminToken: 'admin-token-0123456789', ...options })
  return { admin, server }
}

const noContent: Handler = (_req: Recorded, res: ServerResponse) => {
  res.writeHead(204)
  res.end()
}

const app = { id: 'app_1', name: 'shop', settings: { historySize: 100 }, createdAt: '2026-11-21T12:00:00.000Z' }
const key = { keyId: 'key_1', secret: 's', capability: { '*': ['subscribe', 'publish', 'presence', 'history'] }, createdAt: '2026-11-21T12:00:00.000Z' }

async function caught(p: Promise<unknown>): Promise<HeraldError> {
  const e = await p.then(
    () => undefined,
    (err: unknown) => err,
  )
  expect(e).toBeInstanceOf(HeraldError)
  return e as HeraldError
}

describe('HeraldAdmin', () => {
  it('lists apps with the admin token as a Bearer token', async () => {
    const { admin, server } = await setup([json(200, { apps: [{ ...app, connections: 3 }] })])
    expect(await admin.listApps()).toEqual([{ ...app, connections: 3 }])
    const req = server.requests[0]!
    expect([req.method, req.url]).toEqual(['GET', '/admin/v1/apps'])
    expect(req.headers.authorization).toBe('Bearer admin-token-0123456789')
  })

  it('creates an app with settings and returns the app and its first key', async () => {
    const { admin, server } = await setup([json(201, { app, key })])
    expect(await admin.createApp('shop', { settings: { historySize: 500 } })).toEqual({ app, key })
    const req = server.requests[0]!
    expect([req.method, req.url]).toEqual(['POST', '/admin/v1/apps'])
    expect(req.headers['content-type']).toBe('application/json')
    expect(JSON.parse(req.body)).toEqual({ name: 'shop', settings: { historySize: 500 } })
    await admin.createApp('bare')
    expect(JSON.parse(server.requests[1]!.body)).toEqual({ name: 'bare' })
  })

  it('reads, updates and deletes an app by id (escaped in the path)', async () => {
    const { admin, server } = await setup([json(200, { app, keys: [key] }), json(200, { app: { ...app, name: 'renamed' } }), noContent])
    expect(await admin.getApp('app_1')).toEqual({ app, keys: [key] })
    expect((await admin.updateApp('app_1', { name: 'renamed', settings: { publishRatePerSecond: 50 } })).name).toBe('renamed')
    expect(await admin.deleteApp('app/1')).toBeUndefined()
    expect(server.requests.map((r) => [r.method, r.url])).toEqual([
      ['GET', '/admin/v1/apps/app_1'],
      ['PATCH', '/admin/v1/apps/app_1'],
      ['DELETE', '/admin/v1/apps/app%2F1'],
    ])
    expect(JSON.parse(server.requests[1]!.body)).toEqual({ name: 'renamed', settings: { publishRatePerSecond: 50 } })
  })

  it('creates and revokes keys', async () => {
    const { admin, server } = await setup([json(201, { key: { ...key, label: 'ci' } }), noContent])
    expect(await admin.createKey('app_1', { label: 'ci', capability: { 'chat:*': ['publish'] } })).toMatchObject({ keyId: 'key_1', label: 'ci' })
    await admin.revokeKey('app_1', 'key_1')
    expect(server.requests.map((r) => [r.method, r.url])).toEqual([
      ['POST', '/admin/v1/apps/app_1/keys'],
      ['DELETE', '/admin/v1/apps/app_1/keys/key_1'],
    ])
    expect(JSON.parse(server.requests[0]!.body)).toEqual({ label: 'ci', capability: { 'chat:*': ['publish'] } })
  })

  it('reads stats', async () => {
    const stats = { connections: 1, channels: 2, subscriptions: 3, messagesPublished: 4, messagesDelivered: 5, nodes: 1, ts: 6 }
    const { admin } = await setup([json(200, { stats })])
    expect(await admin.stats('app_1')).toEqual(stats)
  })

  it("throws the contract's error: unauthorized for a wrong token, not_found for an unknown app", async () => {
    const { admin } = await setup([
      json(401, { error: { code: 'unauthorized', message: 'invalid admin token' } }),
      json(404, { error: { code: 'not_found', message: 'unknown app' } }),
    ])
    const e1 = await caught(admin.listApps())
    expect([e1.code, e1.status, e1.message]).toEqual(['unauthorized', 401, 'invalid admin token'])
    const e2 = await caught(admin.getApp('app_nope'))
    expect([e2.code, e2.status]).toEqual(['not_found', 404])
  })

  it('retries reads on a network failure, but sends a create only once', async () => {
    const { admin, server: reads } = await setup([drop, json(200, { apps: [] })], { retries: 2 })
    expect(await admin.listApps()).toEqual([])
    expect(reads.requests).toHaveLength(2)
    const creates = await startScriptServer([drop, json(201, { app, key })])
    try {
      const once = new HeraldAdmin({ url: creates.url, adminToken: 't', retries: 2 })
      expect((await caught(once.createApp('x'))).code).toBe('network')
      expect(creates.requests).toHaveLength(1)
    } finally {
      await creates.close()
    }
  })

  it('names a missing option, and an unreachable service is a network error', async () => {
    expect(() => new HeraldAdmin({ url: 'http://x', adminToken: '' })).toThrow(/adminToken is required/)
    expect(() => new HeraldAdmin({ url: '', adminToken: 't' })).toThrow(/url is required/)
    server = await startScriptServer([json(200, {})])
    const url = server.url
    await server.close()
    server = undefined
    const e = await caught(new HeraldAdmin({ url, adminToken: 't', retries: 0 }).listApps())
    expect(e.code).toBe('network')
    expect(e.status).toBe(0)
  })
})
