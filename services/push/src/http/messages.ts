import { createRoute, OpenAPIHono } from '@hono/zod-openapi'
import type { Context, MiddlewareHandler } from 'hono'
import type { NodeContext } from '../context.js'
import type { RawMessage } from '../engine/publisher.js'
import { badRequest } from '../errors.js'
import { isPublishBody, type PublishBody } from './publish-body.js'
import { AppIdParam, errorResponses, json, PublishBodySchema, PublishReplySchema } from './schemas.js'
import { appAndIdentity } from './public-auth.js'
import { validationHook } from './validation.js'

/** Content types the fast path takes as they are; any other goes through the schema's own media-type check. */
const JSON_TYPES = new Set(['application/json', 'application/json; charset=utf-8', 'application/json;charset=utf-8', 'application/json; charset=UTF-8'])

/**
 * `POST /v1/apps/:appId/messages`. The zod schemas document the route (`/openapi.json`) and
 * answer every refusal; a JSON body they accept unchanged ({@link isPublishBody}, one
 * synchronous check) skips the validator middleware chain and goes straight to the publish.
 */
export function messageRoutes(ctx: NodeContext) {
  const publish = async (c: Context, appId: string, body: PublishBody) => {
    const { app, identity } = await appAndIdentity(ctx, c, appId)
    const raws: RawMessage[] =
      body.messages ?? (body.channels ? body.channels.map((channel) => ({ channel, name: body.name, data: body.data, id: body.id })) : [body])
    if (body.channels && new Set(body.channels).size !== body.channels.length) throw badRequest('channels must not repeat')
    const inputs = raws.map((raw, i) => {
      try {
        return ctx.engine.validate(app, identity, raw)
      } catch (err) {
        if (raws.length > 1 && err instanceof Error) err.message = `messages[${i}]: ${err.message}`
        throw err
      }
    })
    const outcomes = await ctx.engine.publish(app, inputs, 'rest')
    return c.json({ messages: outcomes.map(({ message: m }) => ({ channel: m.channel, id: m.id, seq: m.seq, epoch: m.epoch })) }, 200)
  }

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
