import type { Context } from 'hono'
import type { Identity } from '../auth/identity.js'
import type { App } from '../apps/types.js'
import type { NodeContext } from '../context.js'
import { HeraldError, notFound, toHeraldError, unauthorized } from '../errors.js'

/**
 * Resolves `:appId` and the caller's credentials for a public REST route.
 * Unknown app: 404. No credentials where they are needed: 401.
 */
export function appAndIdentity(ctx: NodeContext, c: Context, appId: string, opts: { anonymous?: boolean } = {}): Promise<{ app: App; identity: Identity }> {
  return authorizeRequest(ctx, appId, c.req.header('authorization'), opts)
}

/** {@link appAndIdentity} from the `Authorization` header's value (the publish fast path has no Hono context). */
export async function authorizeRequest(
  ctx: NodeContext,
  appId: string,
  authorization: string | undefined,
  opts: { anonymous?: boolean } = {},
): Promise<{ app: App; identity: Identity }> {
  const app = await ctx.engine.app(appId)
  if (!app) throw notFound(`unknown app ${appId}`)
  let identity: Identity
  try {
    identity = await ctx.engine.identifyRequest(app, authorization)
  } catch (err) {
    const e = toHeraldError(err)
    ctx.metrics.authFailures.inc({ app: appId, transport: 'rest', code: e.code })
    throw e
  }
  if (identity.kind === 'anonymous' && !opts.anonymous) {
    throw unauthorized('credentials required: Authorization: Basic base64(keyId:secret) or Bearer <token>')
  }
  return { app, identity }
}

export function requireBasic(identity: Identity): void {
  if (identity.kind !== 'basic') throw new HeraldError('forbidden', 'this endpoint needs Basic auth with an app key')
}
