import { createRoute, OpenAPIHono } from '@hono/zod-openapi'
import type { NodeContext } from '../context.js'
import type { RawMessage } from '../engine/publisher.js'
import { badRequest } from '../errors.js'
import { AppIdParam, errorResponses, json, PublishBodySchema, PublishReplySchema } from './schemas.js'
import { appAndIdentity } from './public-auth.js'
import { validationHook } from './validation.js'

const publishRoute = createRoute({
  method: 'post',
  path: '/apps/{appId}/messages',
  tags: ['messages'],
  security: [{ basic: [] }, { bearer: [] }] as Array<Record<string, string[]>>,
  summary: 'Publish to one channel, several channels, or a batch of up to 100 (all or nothing)',
  request: { params: AppIdParam, body: { required: true, content: { 'application/json': { schema: PublishBodySchema } } } },
  responses: { 200: json(PublishReplySchema, 'Published (duplicates return the first message\'s seq)'), ...errorResponses(400, 401, 403, 404, 413, 429, 500) },
})

/** `POST /v1/apps/:appId/messages`. */
export function messageRoutes(ctx: NodeContext) {
  const r = new OpenAPIHono({ defaultHook: validationHook })
  r.openapi(publishRoute, async (c) => {
    const { appId } = c.req.valid('param')
    const body = c.req.valid('json') as { channel?: string; channels?: string[]; messages?: RawMessage[]; name?: string; data?: unknown; id?: string }
    const { app, identity } = await appAndIdentity(ctx, c, appId)
    const raws: RawMessage[] =
      body.messages ??
      (body.channels
        ? body.channels.map((channel) => ({ channel, name: body.name, data: body.data, id: body.id }))
        : [body])
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
  })
  return r
}
