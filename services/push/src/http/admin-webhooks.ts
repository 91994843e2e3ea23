import { createRoute, OpenAPIHono, z } from '@hono/zod-openapi'
import type { NodeContext } from '../context.js'
import { badRequest, notFound } from '../errors.js'
import { DELIVERY_LOG_SIZE } from '../webhooks/outbox.js'
import { AppIdParam, errorResponses, json } from './schemas.js'
import { validationHook } from './validation.js'

const security = [{ adminToken: [] }]
const tags = ['admin']

export const WebhookDeliverySchema = z
  .object({
    id: z.number().int(),
    at: z.number().int().openapi({ description: 'When the attempt ended (epoch ms)' }),
    url: z.string(),
    events: z.array(z.string()).openapi({ description: 'Names of the events in the POST' }),
    outcome: z.enum(['delivered', 'retrying', 'dropped']),
    status: z.number().int().optional().openapi({ description: "The receiver's HTTP status; absent when it did not answer" }),
    error: z.string().optional(),
    attempt: z.number().int().openapi({ description: '1 for the first attempt' }),
    latencyMs: z.number().int(),
  })
  .openapi('WebhookDelivery')

export const WebhookDeliveriesSchema = z
  .object({ deliveries: z.array(WebhookDeliverySchema), pending: z.number().int().openapi({ description: 'POSTs of this app waiting in the outbox' }) })
  .openapi('WebhookDeliveries')

const routes = {
  deliveries: createRoute({
    method: 'get',
    path: '/apps/{appId}/webhooks/deliveries',
    tags,
    security,
    summary: "The app's latest webhook delivery attempts, newest first",
    request: {
      params: AppIdParam,
      query: z.object({
        limit: z.coerce
          .number()
          .int()
          .min(1)
          .max(DELIVERY_LOG_SIZE)
          .optional()
          .openapi({ param: { name: 'limit', in: 'query' }, example: 50 }),
      }),
    },
    responses: { 200: json(WebhookDeliveriesSchema, 'Delivery attempts'), ...errorResponses(400, 401, 404, 429) },
  }),
  test: createRoute({
    method: 'post',
    path: '/apps/{appId}/webhooks/test',
    tags,
    security,
    summary: "Queue a test POST (channel_occupied + channel_vacated of herald-webhook-test) to each of the app's webhooks",
    request: { params: AppIdParam },
    responses: { 202: json(z.object({ queued: z.number().int() }).openapi('WebhookTestReply'), 'Queued'), ...errorResponses(400, 401, 404, 429) },
  }),
}

/** Admin routes of webhooks (`/admin/v1/apps/:appId/webhooks/…`). Mounted behind `adminAuth`. */
export function adminWebhookRoutes(ctx: NodeContext) {
  const r = new OpenAPIHono({ defaultHook: validationHook })

  r.openapi(routes.deliveries, async (c) => {
    const { appId } = c.req.valid('param')
    const { limit } = c.req.valid('query')
    if (!(await ctx.store.getApp(appId))) throw notFound(`no app ${appId}`)
    const [log, depth] = await Promise.all([ctx.webhooks.deliveries(appId, limit ?? 50), ctx.webhooks.depth()])
    const deliveries = log.map((d) => ({
      id: d.id,
      at: d.at,
      url: d.url,
      events: d.eventNames,
      outcome: d.outcome,
      ...(d.httpStatus !== undefined ? { status: d.httpStatus } : {}),
      ...(d.error !== undefined ? { error: d.error } : {}),
      attempt: d.attempt,
      latencyMs: d.latencyMs,
    }))
    return c.json({ deliveries, pending: depth[appId] ?? 0 }, 200)
  })

  r.openapi(routes.test, async (c) => {
    const { appId } = c.req.valid('param')
    const app = await ctx.store.getApp(appId)
    if (!app) throw notFound(`no app ${appId}`)
    if (app.settings.webhooks.length === 0) throw badRequest('settings.webhooks: the app has no webhook to test')
    return c.json({ queued: await ctx.webhooks.test(app) }, 202)
  })

  return r
}
