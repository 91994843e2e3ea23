import { createRoute, OpenAPIHono, z } from '@hono/zod-openapi'
import type { NodeContext } from '../context.js'
import { json } from './schemas.js'

const READY_TIMEOUT_MS = 2000

const healthz = createRoute({
  method: 'get',
  path: '/healthz',
  tags: ['health'],
  summary: 'Liveness: the process answers',
  responses: { 200: json(z.object({ status: z.literal('ok') }), 'Alive') },
})
const readyz = createRoute({
  method: 'get',
  path: '/readyz',
  tags: ['health'],
  summary: 'Readiness: database and broker reachable, not draining',
  responses: {
    200: json(z.object({ status: z.literal('ready'), database: z.string(), broker: z.string() }), 'Ready'),
    503: json(z.object({ status: z.literal('unavailable'), database: z.string(), broker: z.string() }), 'Not ready'),
  },
})

function within<T>(p: Promise<T>): Promise<T> {
  return Promise.race([p, new Promise<T>((_, reject) => setTimeout(() => reject(new Error('timeout')), READY_TIMEOUT_MS).unref())])
}

/** `/healthz` and `/readyz`. */
export function healthRoutes(ctx: NodeContext) {
  const r = new OpenAPIHono()
  r.openapi(healthz, (c) => c.json({ status: 'ok' as const }, 200))
  r.openapi(readyz, async (c) => {
    const [db, broker] = await Promise.all([
      within(ctx.store.ping()).then(
        () => 'ok',
        (e: Error) => `down: ${e.message}`,
      ),
      within(ctx.engine.ping()).then(
        () => 'ok',
        (e: Error) => `down: ${e.message}`,
      ),
    ])
    const ok = db === 'ok' && broker === 'ok' && !ctx.draining()
    const body = { database: db, broker: ctx.draining() ? 'draining' : broker }
    return ok ? c.json({ status: 'ready' as const, ...body }, 200) : c.json({ status: 'unavailable' as const, ...body }, 503)
  })
  return r
}
