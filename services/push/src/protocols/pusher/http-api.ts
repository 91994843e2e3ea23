import { Hono } from 'hono'
import type { App } from '../../apps/types.js'
import type { NodeContext } from '../../context.js'
import type { PublishInput } from '../../engine/broker.js'
import { badRequest, forbidden } from '../../errors.js'
import { heraldChannelOf, isValidPusherChannel, isValidPusherUserId, pusherChannelInfo, pusherChannelOf, userChannel } from './channels.js'
import { type CheckedEvent, checkEvent, MAX_BATCH_EVENTS } from './events.js'
import { signedCall } from './http-auth.js'
import { pusherOnError } from './http-errors.js'
import { Occupancy } from './occupancy.js'

type ChannelInfoReply = { occupied?: boolean; subscription_count?: number; user_count?: number }

/**
 * The Pusher HTTP API, signed as Pusher signs it (docs/pusher.md, "The HTTP API"):
 * - `POST /apps/:appId/events`, `POST /apps/:appId/batch_events`: publish through the same
 *   engine path as Herald's REST publish (one seq, one history, both faces' subscribers),
 *   with the app's size and rate limits, all or nothing;
 * - `GET /apps/:appId/channels`, `GET /apps/:appId/channels/:channel`,
 *   `GET /apps/:appId/channels/:channel/users`: occupancy over the cluster and both faces;
 * - `POST /apps/:appId/users/:userId/terminate_connections`: closes the user's connections on every node.
 */
export function pusherHttpRoutes(ctx: NodeContext): Hono {
  const r = new Hono()
  r.onError(pusherOnError(ctx.logger))

  const publish = (app: App, inputs: PublishInput[]) => ctx.engine.publish(app, inputs, 'pusher')

  /** The `info` a trigger reply carries for one event: `{channel: {subscription_count?, user_count?}}`. */
  const triggerInfo = async (occupancy: Occupancy, event: CheckedEvent) => {
    const out: Record<string, ChannelInfoReply> = {}
    for (const channel of event.channels) {
      const info: ChannelInfoReply = {}
      if (event.info.includes('subscription_count')) info.subscription_count = await occupancy.subscriptionCount(channel)
      if (event.info.includes('user_count') && pusherChannelInfo(channel).kind === 'presence') info.user_count = await occupancy.userCount(channel)
      out[channel] = info
    }
    return out
  }

  r.post('/:appId/events', async (c) => {
    const { app, identity, body } = await signedCall(ctx, c, c.req.param('appId'))
    const event = checkEvent(app, (raw) => ctx.engine.validate(app, identity, raw), body, { batch: false })
    await publish(app, event.inputs)
    if (event.info.length === 0) return c.json({}, 200)
    return c.json({ channels: await triggerInfo(new Occupancy(ctx.engine, app.id), event) }, 200)
  })

  r.post('/:appId/batch_events', async (c) => {
    const { app, identity, body } = await signedCall(ctx, c, c.req.param('appId'))
    const batch = (body as { batch?: unknown } | undefined)?.batch
    if (!Array.isArray(batch) || batch.length === 0) throw badRequest('batch must be a non-empty array of events')
    if (batch.length > MAX_BATCH_EVENTS) throw badRequest(`a batch may hold at most ${MAX_BATCH_EVENTS} events, not ${batch.length}`)
    const events = batch.map((e, i) => checkEvent(app, (raw) => ctx.engine.validate(app, identity, raw), e, { batch: true, where: `batch[${i}]` }))
    await publish(app, events.flatMap((e) => e.inputs))
    if (events.every((e) => e.info.length === 0)) return c.json({}, 200)
    const occupancy = new Occupancy(ctx.engine, app.id)
    const replies: ChannelInfoReply[] = []
    for (const e of events) replies.push((await triggerInfo(occupancy, e))[e.channels[0] as string] ?? {})
    return c.json({ batch: replies }, 200)
  })

  r.get('/:appId/channels', async (c) => {
    const { app } = await signedCall(ctx, c, c.req.param('appId'))
    const prefix = c.req.query('filter_by_prefix') ?? ''
    const info = attributes(c.req.query('info'), ['user_count', 'subscription_count'])
    if (info.includes('user_count') && !prefix.startsWith('presence-')) {
      throw badRequest('info=user_count needs filter_by_prefix=presence- (user counts exist for presence channels only)')
    }
    const occupancy = new Occupancy(ctx.engine, app.id)
    const channels: Record<string, ChannelInfoReply> = {}
    // Pusher names only (a Herald-only name such as chat:1 is not a Pusher channel); user channels are private to their user.
    const listed = Object.entries(await occupancy.channels())
      .map(([herald, n]) => [pusherChannelOf(herald), n] as const)
      .filter((e): e is readonly [string, number] => e[0] !== undefined && e[1] > 0 && e[0].startsWith(prefix) && pusherChannelInfo(e[0]).kind !== 'server-to-user')
      .sort(([a], [b]) => (a < b ? -1 : 1))
    for (const [name, n] of listed) {
      const entry: ChannelInfoReply = {}
      if (info.includes('user_count')) entry.user_count = await occupancy.userCount(name)
      if (info.includes('subscription_count')) entry.subscription_count = n
      channels[name] = entry
    }
    return c.json({ channels }, 200)
  })

  r.get('/:appId/channels/:channel', async (c) => {
    const { app } = await signedCall(ctx, c, c.req.param('appId'))
    const channel = validChannel(c.req.param('channel'))
    const info = attributes(c.req.query('info'), ['user_count', 'subscription_count'])
    const presence = pusherChannelInfo(channel).kind === 'presence'
    if (info.includes('user_count') && !presence) throw badRequest('info=user_count is for presence channels only')
    const occupancy = new Occupancy(ctx.engine, app.id)
    const subscriptions = await occupancy.subscriptionCount(channel)
    const reply: ChannelInfoReply = { occupied: subscriptions > 0 }
    if (info.includes('subscription_count')) reply.subscription_count = subscriptions
    if (info.includes('user_count')) reply.user_count = await occupancy.userCount(channel)
    return c.json(reply, 200)
  })

  r.get('/:appId/channels/:channel/users', async (c) => {
    const { app, identity } = await signedCall(ctx, c, c.req.param('appId'))
    const channel = validChannel(c.req.param('channel'))
    if (pusherChannelInfo(channel).kind !== 'presence') throw badRequest('users exist for presence channels only')
    const herald = heraldChannelOf(channel)
    if (!identity.capability.allows(herald, 'presence') && !identity.capability.allows(herald, 'subscribe')) {
      throw forbidden(`this key may not read the members of ${channel}`)
    }
    const ids = await new Occupancy(ctx.engine, app.id).userIds(channel)
    return c.json({ users: ids.map((id) => ({ id })) }, 200)
  })

  r.post('/:appId/users/:userId/terminate_connections', async (c) => {
    const { app, identity } = await signedCall(ctx, c, c.req.param('appId'))
    const userId = c.req.param('userId')
    if (!isValidPusherUserId(userId)) throw badRequest('invalid user id')
    // Ending a user's connections is a write to that user: the key must be allowed to publish to the user's channel.
    if (!identity.capability.allows(heraldChannelOf(userChannel(userId)), 'publish')) throw forbidden(`this key may not act on user ${userId}`)
    await ctx.control.emit({ type: 'user.terminate', appId: app.id, userId })
    return c.json({}, 200)
  })

  return r
}

function validChannel(name: string): string {
  const shown = JSON.stringify(name.slice(0, 200))
  if (isValidPusherChannel(name)) return name
  throw badRequest(`invalid channel name ${shown}`)
}

/** A comma-separated `info` query parameter, each part one of `allowed`. */
function attributes(value: string | undefined, allowed: string[]): string[] {
  if (!value) return []
  const parts = value.split(',').map((p) => p.trim())
  for (const p of parts) if (!allowed.includes(p)) throw badRequest(`info may ask for ${allowed.join(', ')}; not ${JSON.stringify(p)}`)
  return parts
}
