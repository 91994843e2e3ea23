import type { NodeContext } from '../context.js'
import type { RawMessage } from '../engine/publisher.js'
import { badRequest } from '../errors.js'
import type { PublishBody } from './publish-body.js'
import { authorizeRequest } from './public-auth.js'

/** The 200 answer of `POST /v1/apps/:appId/messages` (`PublishReplySchema`). */
export interface PublishReply {
  messages: { channel: string; id: string; seq: number; epoch: string }[]
}

/**
 * The publish of a REST call whose body the schema accepts: resolves the app and the caller,
 * checks every message against the caller's capability and the app's limits (all or nothing),
 * publishes them and answers their ids and positions. The Hono route and the node:http fast
 * path (`publish-fast.ts`) both end here.
 */
export async function publishRest(ctx: NodeContext, appId: string, authorization: string | undefined, body: PublishBody): Promise<PublishReply> {
  const { app, identity } = await authorizeRequest(ctx, appId, authorization)
  const raws: RawMessage[] =
    body.messages ?? (body.channels ? body.channels.map((channel) => ({ channel, name: body.name, data: body.data, id: body.id })) : [body as RawMessage])
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
  return { messages: outcomes.map(({ message: m }) => ({ channel: m.channel, id: m.id, seq: m.seq, epoch: m.epoch })) }
}
