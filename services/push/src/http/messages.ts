import { createRoute, OpenAPIHono } from '@hono/zod-openapi'
import type { Context, MiddlewareHandler } from 'hono'
import type { NodeContext } from '../context.js'
import { isPublishBody, JSON_TYPES, type PublishBody } from './publish-body.js'
import { publishRest } from './publish.js'
import { AppIdParam, errorResponses, json, PublishBodySchema, PublishReplySchema } from './schemas.js'
import { validationHook } from './validation.js'

/**
 * `POST /v1/apps/:appId/messages`. The zod schemas document the route (`/openapi.json`) and
 * answer every refusal; a JSON body they accept unchanged ({@link isPublishBody}, one
 * synchronous check) skips the validator middleware chain and goes straight to the publish.
 * Most server-to-server publishes never get here: `publish-fast.ts` takes them before Hono.
 */
export function messageRoutes(ctx: NodeContext) {
  const publish = async (c: Context, appId: string, body: PublishBody) => c.json(await publishRest(ctx, appId, c.req.header('authorization'), body), 200)

  /** Runs before the validators: a body the check accepts is published here; anything else falls through to the schema. */
  const fast: MiddlewareHandler = async (c, next) => {
    const type = c.req.header('content-type')
    if (type === undefined || !JSON_TYPES.has(type)) return next()
    let body: unknown
    try {
      body = await c.req.json()
    } catch {
      return next() // the json validator reads the same cached text and answers "body is not valid JSON"
    }
    if (!isPublishBody(body)) return next()
    return publish(c, c.req.param('appId') ?? '', body)
  }

  const publishRoute = createRoute({
    method: 'post',
    path: '/apps/{appId}/messages',
    middleware: [fast] as const,
    tags: ['messages'],
    security: [{ basic: [] }, { bearer: [] }] as Array<Record<string, string[]>>,
    summary: 'Publish to one channel, several channels, or a batch of up to 100 (all or nothing)',
    request: { params: AppIdParam, body: { required: true, content: { 'application/json': { schema: PublishBodySchema } } } },
    responses: { 200: json(PublishReplySchema, "Published (duplicates return the first message's seq)"), ...errorResponses(400, 401, 403, 404, 413, 429, 500) },
  })
  const r = new OpenAPIHono({ defaultHook: validationHook })
  r.openapi(publishRoute, (c) => publish(c, c.req.valid('param').appId, c.req.valid('json') as PublishBody))
  return r
}
