import { OpenAPIHono } from '@hono/zod-openapi'
import type { MiddlewareHandler } from 'hono'
import { bodyLimit } from 'hono/body-limit'
import type { NodeContext } from '../context.js'
import { HeraldError } from '../errors.js'
import type { Protocol } from './protocols.js'
import { adminAuth } from './admin-auth.js'
import { adminRoutes } from './admin.js'
import { adminWebhookRoutes } from './admin-webhooks.js'
import { channelRoutes } from './channels.js'
import { appCors } from './cors.js'
import { errorResponse, onError } from './errors.js'
import { healthRoutes } from './health.js'
import { messageRoutes } from './messages.js'
import { packageVersion, staticRoutes } from './static.js'
import { ChannelParam } from './schemas.js'

/** Largest request body: a batch of 100 messages of 64 KiB each, with room for the envelope. */
export const MAX_BODY_BYTES = 8 * 1024 * 1024

export interface HttpOptions {
  verifyAdmin: (token: string) => boolean
  /** Client protocols: their route groups are mounted here (upgrades: `attachUpgrades`). */
  protocols: readonly Protocol[]
}

/** The node's whole HTTP surface as one Hono app; `/openapi.json` is generated from the routes. */
export function createHttpApp(ctx: NodeContext, options: HttpOptions) {
  const app = new OpenAPIHono()
  app.onError(onError(ctx.logger))
  app.notFound((c) => errorResponse(c, new HeraldError('not_found', `no route ${c.req.method} ${c.req.path}`)))

  const streamingLimit = bodyLimit({
    maxSize: MAX_BODY_BYTES,
    onError: (c) => errorResponse(c, new HeraldError('too_large', `request body larger than ${MAX_BODY_BYTES} bytes`)),
  })
  // Requests with a Content-Length are checked from the header alone: hono's bodyLimit reads
  // `req.raw.body`, which makes the Node adapter build a whole WHATWG Request and stream for
  // every publish (a fifth of the REST publish CPU in a profile). Chunked bodies still go through it.
  const limit: MiddlewareHandler = (c, next) => {
    if (c.req.method === 'GET' || c.req.method === 'HEAD' || c.req.method === 'OPTIONS') return next()
    const length = c.req.header('content-length')
    if (length !== undefined && c.req.header('transfer-encoding') === undefined) {
      if (Number(length) > MAX_BODY_BYTES) throw new HeraldError('too_large', `request body larger than ${MAX_BODY_BYTES} bytes`)
      return next()
    }
    return streamingLimit(c, next)
  }
  app.use('/v1/*', limit)
  app.use('/admin/*', limit)
  app.use(
    '/v1/apps/:appId/*',
    appCors((appId) => ctx.engine.app(appId)),
  )

  app.route('/', healthRoutes(ctx))
  app.route('/v1', messageRoutes(ctx))
  app.route('/v1', channelRoutes(ctx))
  for (const protocol of options.protocols) {
    for (const group of protocol.routes ?? []) {
      for (const m of group.middleware ?? []) app.use(m.pattern ?? `${group.base}/*`, m.handler)
      app.route(group.base, group.routes)
    }
  }

  app.use('/admin/v1/*', adminAuth(options.verifyAdmin))
  app.route('/admin/v1', adminRoutes(ctx))
  app.route('/admin/v1', adminWebhookRoutes(ctx))

  app.get('/metrics', async (c) => c.body(await ctx.metrics.registry.metrics(), 200, { 'Content-Type': ctx.metrics.registry.contentType }))

  app.openAPIRegistry.registerComponent('securitySchemes', 'basic', { type: 'http', scheme: 'basic', description: 'keyId:secret of an app key' })
  app.openAPIRegistry.registerComponent('securitySchemes', 'bearer', {
    type: 'http',
    scheme: 'bearer',
    bearerFormat: 'JWT',
    description: 'A client JWT (HS256, kid = keyId)',
  })
  app.openAPIRegistry.registerComponent('securitySchemes', 'adminToken', { type: 'http', scheme: 'bearer', description: 'The admin token' })
  app.openAPIRegistry.registerPath({
    method: 'get',
    path: '/v1/apps/{appId}/ws',
    tags: ['transports'],
    summary: 'WebSocket upgrade; frames in docs/protocol.md',
    request: { params: ChannelParam.pick({ appId: true }) },
    responses: { 101: { description: 'Switching Protocols' } },
  })
  app.doc31('/openapi.json', {
    openapi: '3.1.0',
    info: { title: 'Herald', version: packageVersion(), description: 'Multi-tenant real-time pub/sub: public API, transports and admin API.' },
  })

  // A plain GET of the WebSocket path (no upgrade) says what is wrong instead of "no route".
  app.get('/v1/apps/:appId/ws', (c) => errorResponse(c, new HeraldError('bad_request', 'this endpoint needs a WebSocket upgrade')))
  app.route('/', staticRoutes())
  return app
}
