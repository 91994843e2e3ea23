import { Validator } from '@seriousme/openapi-schema-validator'
import { readFileSync } from 'node:fs'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { createApp, startHerald, type CreatedApp, type HeraldProcess } from './support/herald.js'

type Schema = { type?: string | string[]; required?: string[]; properties?: Record<string, Schema>; anyOf?: Schema[]; oneOf?: Schema[]; allOf?: Schema[] }
type Operation = {
  security?: Array<Record<string, string[]>>
  responses?: Record<string, { content?: Record<string, { schema?: Schema }> }>
  requestBody?: { content?: Record<string, unknown> }
}
type Spec = {
  openapi: string
  paths: Record<string, Record<string, Operation>>
  security?: Array<Record<string, string[]>>
  components?: { securitySchemes?: Record<string, { type: string; scheme?: string }> }
}

/** Every HTTP route of the contract: method -> OpenAPI path (parameter names normalised to `{}`). */
const CONTRACT_ROUTES = [
  'post /v1/apps/{}/messages',
  'get /v1/apps/{}/channels/{}/messages',
  'get /v1/apps/{}/channels/{}/presence',
  'get /v1/apps/{}/channels',
  'get /v1/apps/{}/ws',
  'get /v1/apps/{}/sse',
  'get /v1/apps/{}/poll',
  'post /admin/v1/apps',
  'get /admin/v1/apps',
  'get /admin/v1/apps/{}',
  'patch /admin/v1/apps/{}',
  'delete /admin/v1/apps/{}',
  'post /admin/v1/apps/{}/keys',
  'delete /admin/v1/apps/{}/keys/{}',
  'get /admin/v1/apps/{}/stats',
  // v2: webhooks (docs/webhooks.md)
  'get /admin/v1/apps/{}/webhooks/deliveries',
  'post /admin/v1/apps/{}/webhooks/test',
  'get /healthz',
  'get /readyz',
]
const METHODS = ['get', 'put', 'post', 'delete', 'options', 'head', 'patch', 'trace']
const normalise = (path: string) => path.replace(/\{[^}]+\}/g, '{}').replace(/:[A-Za-z]+/g, '{}')

let h: HeraldProcess
let spec: Spec
let resolved: Spec

beforeAll(async () => {
  h = await startHerald()
  const res = await fetch(`${h.url}/openapi.json`)
  expect(res.status).toBe(200)
  expect(res.headers.get('content-type')).toMatch(/application\/json/)
  spec = (await res.json()) as Spec
  const validator = new Validator()
  const result = await validator.validate(structuredClone(spec) as unknown as Record<string, unknown>)
  if (!result.valid) throw new Error(`/openapi.json is not valid OpenAPI: ${JSON.stringify(result.errors, null, 2)}`)
  resolved = validator.resolveRefs() as unknown as Spec
})

afterAll(async () => {
  await h?.stop()
})

function operations(s: Spec): Map<string, Operation> {
  const out = new Map<string, Operation>()
  for (const [path, item] of Object.entries(s.paths ?? {})) {
    for (const method of METHODS) if (item[method]) out.set(`${method} ${normalise(path)}`, item[method]!)
  }
  return out
}

/** The schema's required top-level properties, through anyOf/oneOf (any branch) and allOf. */
function requiredOf(schema: Schema | undefined): string[][] {
  if (!schema) return [[]]
  if (schema.anyOf ?? schema.oneOf) return (schema.anyOf ?? schema.oneOf)!.flatMap(requiredOf)
  if (schema.allOf) return [schema.allOf.flatMap((s) => requiredOf(s)[0] ?? [])]
  return [schema.required ?? []]
}

describe('GET /openapi.json', () => {
  it('is a valid OpenAPI 3.1 document', () => {
    expect(spec.openapi).toMatch(/^3\.1\./)
  })

  it('describes every HTTP route of the contract, and no API route outside it', () => {
    const ops = operations(spec)
    const missing = CONTRACT_ROUTES.filter((r) => !ops.has(r))
    expect(missing).toEqual([])
    const unknown = [...ops.keys()].filter((r) => /^\w+ \/(v1|admin\/v1)\//.test(r) && !CONTRACT_ROUTES.includes(r))
    expect(unknown).toEqual([])
  })

  it('gives each JSON route a JSON success answer, and the publish route a JSON body', () => {
    const ops = operations(resolved)
    for (const route of CONTRACT_ROUTES.filter((r) => !/\/(ws|sse)$/.test(r))) {
      const responses = ops.get(route)?.responses ?? {}
      const success = Object.keys(responses).filter((code) => /^2/.test(code))
      expect(success, route).not.toEqual([])
      for (const code of success.filter((c) => c !== '204'))
        expect(Object.keys(responses[code]!.content ?? {}), `${route} ${code}`).toContain('application/json')
    }
    expect(Object.keys(ops.get('post /v1/apps/{}/messages')!.requestBody?.content ?? {})).toContain('application/json')
  })

  it('defines every security scheme its operations require (Basic, Bearer, admin token)', () => {
    const defined = spec.components?.securitySchemes ?? {}
    const used = new Set<string>()
    for (const op of operations(spec).values()) for (const req of op.security ?? spec.security ?? []) for (const name of Object.keys(req)) used.add(name)
    expect([...used].filter((name) => !(name in defined))).toEqual([])
    const publish = operations(spec).get('post /v1/apps/{}/messages')!
    const schemes = (publish.security ?? spec.security ?? []).flatMap((req) => Object.keys(req)).map((name) => defined[name])
    expect(schemes).toEqual(expect.arrayContaining([expect.objectContaining({ type: 'http', scheme: expect.stringMatching(/^basic$/i) })]))
  })

  it('is listed, route by route, in docs/api.md', () => {
    const doc = readFileSync(new URL('../../../docs/api.md', import.meta.url), 'utf8')
    const documented = new Set<string>()
    for (const line of doc.split('\n').filter((l) => l.startsWith('### '))) {
      for (const m of line.matchAll(/`([A-Z]+) ([^`?\s]+)/g)) documented.add(`${m[1]!.toLowerCase()} ${normalise(m[2]!)}`)
      for (const m of line.matchAll(/, ([A-Z]+) ([^`?\s,]+)/g)) documented.add(`${m[1]!.toLowerCase()} ${normalise(m[2]!)}`)
    }
    const undocumented = [...operations(spec).keys()].filter((r) => !documented.has(r))
    expect(undocumented).toEqual([])
  })
})

describe('the running service answers as /openapi.json says', () => {
  let app: CreatedApp

  /** Calls the service and checks the status is documented for the route and the JSON body has the documented required fields. */
  async function check(route: string, path: string, init: RequestInit & { expect: number }) {
    const res = await fetch(h.url + path, init)
    expect(res.status, `${route} -> ${res.status}`).toBe(init.expect)
    const documented = operations(resolved).get(route)!.responses ?? {}
    expect(Object.keys(documented), `${route} documents ${res.status}`).toContain(String(res.status))
    const text = await res.text()
    if (res.status === 204) return undefined
    const body = JSON.parse(text) as Record<string, unknown>
    const schema = documented[String(res.status)]?.content?.['application/json']?.schema
    const alternatives = requiredOf(schema)
    expect(
      alternatives.some((required) => required.every((k) => k in body)),
      `${route} ${res.status} body ${text.slice(0, 200)} has the required fields of one of ${JSON.stringify(alternatives)}`,
    ).toBe(true)
    return body
  }

  const admin = () => ({ authorization: `Bearer ${h.adminToken}`, 'content-type': 'application/json' })
  const basic = () => ({ authorization: app.basic, 'content-type': 'application/json' })

  it('for the public REST routes', async () => {
    app = await createApp(h)
    await check('post /v1/apps/{}/messages', `/v1/apps/${app.appId}/messages`, {
      method: 'POST',
      headers: basic(),
      body: JSON.stringify({ channel: 'c', data: 1 }),
      expect: 200,
    })
    await check('post /v1/apps/{}/messages', `/v1/apps/${app.appId}/messages`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ channel: 'c', data: 1 }),
      expect: 401,
    })
    await check('post /v1/apps/{}/messages', `/v1/apps/${app.appId}/messages`, {
      method: 'POST',
      headers: basic(),
      body: JSON.stringify({ channel: 'bad channel', data: 1 }),
      expect: 400,
    })
    await check('get /v1/apps/{}/channels/{}/messages', `/v1/apps/${app.appId}/channels/c/messages?limit=1`, { headers: basic(), expect: 200 })
    await check('get /v1/apps/{}/channels/{}/presence', `/v1/apps/${app.appId}/channels/presence-x/presence`, { headers: basic(), expect: 200 })
    await check('get /v1/apps/{}/channels', `/v1/apps/${app.appId}/channels?prefix=c`, { headers: basic(), expect: 200 })
    await check('get /v1/apps/{}/poll', `/v1/apps/${app.appId}/poll?channels=c`, { expect: 200 })
  })

  it('for the admin and operations routes', async () => {
    const created = (await check('post /admin/v1/apps', '/admin/v1/apps', {
      method: 'POST',
      headers: admin(),
      body: JSON.stringify({ name: 'spec' }),
      expect: 201,
    })) as { app: { id: string } }
    const id = created.app.id
    await check('post /admin/v1/apps', '/admin/v1/apps', { method: 'POST', headers: { 'content-type': 'application/json' }, body: '{"name":"x"}', expect: 401 })
    await check('get /admin/v1/apps', '/admin/v1/apps', { headers: admin(), expect: 200 })
    await check('get /admin/v1/apps/{}', `/admin/v1/apps/${id}`, { headers: admin(), expect: 200 })
    await check('get /admin/v1/apps/{}', '/admin/v1/apps/app_missing', { headers: admin(), expect: 404 })
    await check('patch /admin/v1/apps/{}', `/admin/v1/apps/${id}`, {
      method: 'PATCH',
      headers: admin(),
      body: JSON.stringify({ settings: { historySize: 5 } }),
      expect: 200,
    })
    const key = (await check('post /admin/v1/apps/{}/keys', `/admin/v1/apps/${id}/keys`, {
      method: 'POST',
      headers: admin(),
      body: '{"label":"x"}',
      expect: 201,
    })) as { key: { keyId: string } }
    await check('delete /admin/v1/apps/{}/keys/{}', `/admin/v1/apps/${id}/keys/${key.key.keyId}`, { method: 'DELETE', headers: admin(), expect: 204 })
    await check('get /admin/v1/apps/{}/stats', `/admin/v1/apps/${id}/stats`, { headers: admin(), expect: 200 })
    await check('delete /admin/v1/apps/{}', `/admin/v1/apps/${id}`, { method: 'DELETE', headers: admin(), expect: 204 })
    await check('get /healthz', '/healthz', { expect: 200 })
    await check('get /readyz', '/readyz', { expect: 200 })
  })
})
