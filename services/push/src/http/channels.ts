import { createRoute, OpenAPIHono, z } from '@hono/zod-openapi'
import { authorize } from '../auth/authorize.js'
import type { NodeContext } from '../context.js'
import { AppIdParam, ChannelParam, ChannelsReplySchema, errorResponses, HistoryReplySchema, json, MembersReplySchema } from './schemas.js'
import { appAndIdentity, requireBasic } from './public-auth.js'
import { validationHook } from './validation.js'

const security: Array<Record<string, string[]>> = [{ basic: [] }, { bearer: [] }]
const tags = ['channels']

const historyRoute = createRoute({
  method: 'get',
  path: '/apps/{appId}/channels/{channel}/messages',
  tags,
  security,
  summary: 'History, oldest first: the next `limit` after `after`, or the latest `limit`',
  request: {
    params: ChannelParam,
    query: z.object({
      limit: z.coerce.number().int().min(1).max(1000).optional(),
      after: z.coerce.number().int().min(0).optional(),
    }),
  },
  responses: { 200: json(HistoryReplySchema, 'History'), ...errorResponses(400, 401, 403, 404) },
})

const presenceRoute = createRoute({
  method: 'get',
  path: '/apps/{appId}/channels/{channel}/presence',
  tags,
  security,
  summary: 'Presence members of a presence-* channel',
  request: { params: ChannelParam },
  responses: { 200: json(MembersReplySchema, 'Members'), ...errorResponses(400, 401, 403, 404) },
})

const channelsRoute = createRoute({
  method: 'get',
  path: '/apps/{appId}/channels',
  tags,
  security: [{ basic: [] }],
  summary: 'Active channels (with at least one subscriber on any node), optionally by prefix',
  request: { params: AppIdParam, query: z.object({ prefix: z.string().max(164).optional() }) },
  responses: { 200: json(ChannelsReplySchema, 'Channels'), ...errorResponses(400, 401, 403, 404) },
})

/** History, presence and the channel list of an app. */
export function channelRoutes(ctx: NodeContext) {
  const r = new OpenAPIHono({ defaultHook: validationHook })

  r.openapi(historyRoute, async (c) => {
    const { appId, channel } = c.req.valid('param')
    const q = c.req.valid('query')
    const { app, identity } = await appAndIdentity(ctx, c, appId)
    authorize(app, identity, channel, 'history')
    const limit = q.limit ?? app.settings.historySize
    const h = await ctx.engine.history(app.id, channel, q.after === undefined ? { limit } : { limit, after: q.after })
    return c.json({ epoch: h.epoch, messages: h.messages as z.infer<typeof HistoryReplySchema>['messages'] }, 200)
  })

  r.openapi(presenceRoute, async (c) => {
    const { appId, channel } = c.req.valid('param')
    const { app, identity } = await appAndIdentity(ctx, c, appId)
    authorize(app, identity, channel, 'members')
    const members = await ctx.engine.members(app.id, channel)
    return c.json({ members, count: members.length }, 200)
  })

  r.openapi(channelsRoute, async (c) => {
    const { appId } = c.req.valid('param')
    const { prefix } = c.req.valid('query')
    const { app, identity } = await appAndIdentity(ctx, c, appId)
    requireBasic(identity)
    return c.json({ channels: await ctx.engine.channels(app.id, prefix) }, 200)
  })

  return r
}
