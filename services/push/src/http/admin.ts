import { createRoute, OpenAPIHono, z } from '@hono/zod-openapi'
import { CloseCodes } from '@herald/protocol'
import { applySettings, DEFAULT_SETTINGS } from '../apps/settings.js'
import type { AppKey } from '../apps/types.js'
import type { NodeContext } from '../context.js'
import { notFound } from '../errors.js'
import { assertWebhookUrls } from '../webhooks/validate.js'
import { AppIdParam, AppSchema, CreateAppSchema, CreateKeySchema, errorResponses, json, KeyParam, KeySchema, StatsSchema, UpdateAppSchema } from './schemas.js'
import { validationHook } from './validation.js'

const security = [{ adminToken: [] }]
const tags = ['admin']

function keyView(k: AppKey) {
  return {
    keyId: k.keyId,
    secret: k.secret,
    ...(k.label ? { label: k.label } : {}),
    capability: k.capability,
    createdAt: k.createdAt,
    ...(k.revokedAt ? { revokedAt: k.revokedAt } : {}),
  }
}

const routes = {
  create: createRoute({
    method: 'post',
    path: '/apps',
    tags,
    security,
    summary: 'Create an app and its first key',
    request: { body: { required: true, content: { 'application/json': { schema: CreateAppSchema } } } },
    responses: { 201: json(z.object({ app: AppSchema, key: KeySchema }), 'The app and its first key'), ...errorResponses(400, 401, 429) },
  }),
  list: createRoute({
    method: 'get',
    path: '/apps',
    tags,
    security,
    summary: 'List apps with their live connection counts',
    responses: { 200: json(z.object({ apps: z.array(AppSchema) }), 'Apps'), ...errorResponses(401, 429) },
  }),
  read: createRoute({
    method: 'get',
    path: '/apps/{appId}',
    tags,
    security,
    summary: 'Read an app and its keys',
    request: { params: AppIdParam },
    responses: { 200: json(z.object({ app: AppSchema, keys: z.array(KeySchema) }), 'The app'), ...errorResponses(401, 404, 429) },
  }),
  update: createRoute({
    method: 'patch',
    path: '/apps/{appId}',
    tags,
    security,
    summary: 'Rename an app or change its settings',
    request: { params: AppIdParam, body: { required: true, content: { 'application/json': { schema: UpdateAppSchema } } } },
    responses: { 200: json(z.object({ app: AppSchema }), 'The updated app'), ...errorResponses(400, 401, 404, 429) },
  }),
  remove: createRoute({
    method: 'delete',
    path: '/apps/{appId}',
    tags,
    security,
    summary: `Delete an app; its connections are closed (${CloseCodes.appGone})`,
    request: { params: AppIdParam },
    responses: { 204: { description: 'Deleted' }, ...errorResponses(401, 404, 429) },
  }),
  createKey: createRoute({
    method: 'post',
    path: '/apps/{appId}/keys',
    tags,
    security,
    summary: 'Create a key',
    request: { params: AppIdParam, body: { required: false, content: { 'application/json': { schema: CreateKeySchema } } } },
    responses: { 201: json(z.object({ key: KeySchema }), 'The new key'), ...errorResponses(400, 401, 404, 429) },
  }),
  revokeKey: createRoute({
    method: 'delete',
    path: '/apps/{appId}/keys/{keyId}',
    tags,
    security,
    summary: `Revoke a key: its tokens stop working and its connections are closed (${CloseCodes.unauthorized})`,
    request: { params: KeyParam },
    responses: { 204: { description: 'Revoked' }, ...errorResponses(401, 404, 429) },
  }),
  stats: createRoute({
    method: 'get',
    path: '/apps/{appId}/stats',
    tags,
    security,
    summary: 'Live connections, channels and message counters (all nodes)',
    request: { params: AppIdParam },
    responses: { 200: json(StatsSchema, 'Stats'), ...errorResponses(401, 404, 429) },
  }),
}

/** The admin API (`/admin/v1`): apps, keys and stats. Mounted behind `adminAuth`. */
export function adminRoutes(ctx: NodeContext) {
  const r = new OpenAPIHono({ defaultHook: validationHook })
  const mustApp = async (appId: string) => {
    const app = await ctx.store.getApp(appId)
    if (!app) throw notFound(`no app ${appId}`)
    return app
  }

  r.openapi(routes.create, async (c) => {
    const body = c.req.valid('json')
    const settings = applySettings(DEFAULT_SETTINGS, body.settings)
    await assertWebhookUrls(body.settings?.webhooks)
    const { app, key } = await ctx.store.createApp({ name: body.name, settings }, {})
    ctx.logger.info({ app: app.id }, 'app created')
    return c.json({ app: { ...app, connections: 0 }, key: keyView(key) }, 201)
  })

  r.openapi(routes.list, async (c) => {
    const apps = await ctx.store.listApps()
    const withCounts = await Promise.all(
      apps.map(async (a) => ({ ...a, connections: (await ctx.engine.state(a.id).catch(() => null))?.connections ?? ctx.engine.hub.sessionCount(a.id) })),
    )
    return c.json({ apps: withCounts }, 200)
  })

  r.openapi(routes.read, async (c) => {
    const { appId } = c.req.valid('param')
    const app = await mustApp(appId)
    const keys = await ctx.store.listKeys(appId)
    return c.json({ app, keys: keys.map(keyView) }, 200)
  })

  r.openapi(routes.update, async (c) => {
    const { appId } = c.req.valid('param')
    const body = c.req.valid('json')
    const current = await mustApp(appId)
    const patch: { name?: string; settings?: typeof current.settings } = {}
    if (body.name !== undefined) patch.name = body.name
    if (body.settings !== undefined) patch.settings = applySettings(current.settings, body.settings)
    await assertWebhookUrls(body.settings?.webhooks)
    const app = await ctx.store.updateApp(appId, patch)
    if (!app) throw notFound(`no app ${appId}`)
    await ctx.control.emit({ type: 'app.updated', appId })
    return c.json({ app }, 200)
  })

  r.openapi(routes.remove, async (c) => {
    const { appId } = c.req.valid('param')
    if (!(await ctx.store.deleteApp(appId))) throw notFound(`no app ${appId}`)
    await ctx.control.emit({ type: 'app.deleted', appId })
    ctx.logger.info({ app: appId }, 'app deleted')
    return c.body(null, 204)
  })

  r.openapi(routes.createKey, async (c) => {
    const { appId } = c.req.valid('param')
    const body = (c.req.valid('json') ?? {}) as { label?: string; capability?: Record<string, never[]> }
    const key = await ctx.store.createKey(appId, { ...(body.label ? { label: body.label } : {}), ...(body.capability ? { capability: body.capability } : {}) })
    if (!key) throw notFound(`no app ${appId}`)
    await ctx.control.emit({ type: 'key.created', appId, keyId: key.keyId })
    return c.json({ key: keyView(key) }, 201)
  })

  r.openapi(routes.revokeKey, async (c) => {
    const { appId, keyId } = c.req.valid('param')
    const key = await ctx.store.revokeKey(appId, keyId)
    if (!key) throw notFound(`no key ${keyId} in app ${appId}`)
    await ctx.control.emit({ type: 'key.revoked', appId, keyId })
    ctx.logger.info({ app: appId, keyId }, 'key revoked')
    return c.body(null, 204)
  })

  r.openapi(routes.stats, async (c) => {
    const { appId } = c.req.valid('param')
    await mustApp(appId)
    const s = await ctx.engine.state(appId)
    const channels = Object.keys(s.channels).length
    const subscriptions = Object.values(s.channels).reduce((a, b) => a + b, 0)
    return c.json(
      {
        stats: {
          connections: s.connections,
          channels,
          subscriptions,
          messagesPublished: s.published,
          messagesDelivered: s.delivered,
          nodes: s.nodes,
          ts: Date.now(),
        },
      },
      200,
    )
  })

  return r
}
