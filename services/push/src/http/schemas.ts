import { ErrorCodes } from '@herald/protocol'
import { z } from '@hono/zod-openapi'
import { AppSettingsPatchSchema, AppSettingsSchema } from '../apps/settings.js'
import { Operations } from '../apps/types.js'

/** Schemas of the HTTP API: they validate requests and generate `/openapi.json`. */

export const ErrorSchema = z
  .object({
    error: z.object({
      code: z.enum(ErrorCodes),
      message: z.string(),
    }),
  })
  .openapi('Error')

export const MessageSchema = z
  .object({
    channel: z.string(),
    id: z.string(),
    seq: z.number().int(),
    epoch: z.string(),
    name: z.string().optional(),
    data: z.unknown(),
    ts: z.number().int(),
    clientId: z.string().optional(),
  })
  .openapi('Message')

const Data = z.unknown().openapi({ description: 'Any JSON value (required: a message without data is refused)' })
const Name = z.string().optional().openapi({ description: 'Event name, 1..200 characters' })
const Id = z.string().optional().openapi({ description: 'Publisher id: a repeat on the channel within 2 minutes is not delivered again' })

export const PublishOneSchema = z.object({ channel: z.string(), name: Name, data: Data, id: Id }).strict().openapi('PublishOne')
export const PublishManySchema = z
  .object({ channels: z.array(z.string()).min(1).max(100), name: Name, data: Data, id: Id })
  .strict()
  .openapi('PublishToChannels')
export const PublishBatchSchema = z
  .object({ messages: z.array(PublishOneSchema).min(1).max(100) })
  .strict()
  .openapi('PublishBatch')
export const PublishBodySchema = z.union([PublishOneSchema, PublishManySchema, PublishBatchSchema]).openapi('PublishBody')

export const PublishReplySchema = z
  .object({ messages: z.array(z.object({ channel: z.string(), id: z.string(), seq: z.number().int(), epoch: z.string() })) })
  .openapi('PublishReply')

export const HistoryReplySchema = z.object({ epoch: z.string(), messages: z.array(MessageSchema) }).openapi('HistoryReply')

export const MemberSchema = z.object({ clientId: z.string(), info: z.record(z.string(), z.unknown()).optional() }).openapi('PresenceMember')
export const MembersReplySchema = z.object({ members: z.array(MemberSchema), count: z.number().int() }).openapi('MembersReply')
export const ChannelsReplySchema = z.object({ channels: z.array(z.object({ name: z.string(), subscribers: z.number().int() })) }).openapi('ChannelsReply')

export const SettingsSchema = AppSettingsSchema.openapi('AppSettings')
export const SettingsPatchSchema = AppSettingsPatchSchema.openapi('AppSettingsPatch')
export const CapabilitySchema = z.record(z.string(), z.array(z.enum(Operations))).openapi('Capability')

export const AppSchema = z
  .object({ id: z.string(), name: z.string(), settings: SettingsSchema, createdAt: z.string(), connections: z.number().int().optional() })
  .openapi('App')
export const KeySchema = z
  .object({
    keyId: z.string(),
    secret: z.string(),
    label: z.string().optional(),
    capability: CapabilitySchema,
    createdAt: z.string(),
    revokedAt: z.string().optional(),
  })
  .openapi('AppKey')

const AppName = z.string().trim().min(1).max(100)
const Label = z.string().trim().min(1).max(100)

export const CreateAppSchema = z.object({ name: AppName, settings: SettingsPatchSchema.optional() }).strict().openapi('CreateApp')
export const UpdateAppSchema = z.object({ name: AppName.optional(), settings: SettingsPatchSchema.optional() }).strict().openapi('UpdateApp')
export const CreateKeySchema = z.object({ label: Label.optional(), capability: CapabilitySchema.optional() }).strict().openapi('CreateKey')

export const StatsSchema = z
  .object({
    stats: z.object({
      connections: z.number().int(),
      channels: z.number().int(),
      subscriptions: z.number().int(),
      messagesPublished: z.number().int(),
      messagesDelivered: z.number().int(),
      nodes: z.number().int(),
      ts: z.number().int(),
    }),
  })
  .openapi('AppStats')

export const AppIdParam = z.object({ appId: z.string().openapi({ param: { name: 'appId', in: 'path' }, example: 'app_x1y2z3' }) })
export const ChannelParam = AppIdParam.extend({ channel: z.string().openapi({ param: { name: 'channel', in: 'path' }, example: 'chat' }) })
export const KeyParam = AppIdParam.extend({ keyId: z.string().openapi({ param: { name: 'keyId', in: 'path' } }) })

/** The error responses every route may give, for the OpenAPI document. */
export function errorResponses(...statuses: number[]) {
  const out: Record<number, { description: string; content: { 'application/json': { schema: typeof ErrorSchema } } }> = {}
  for (const s of statuses) out[s] = { description: 'Error', content: { 'application/json': { schema: ErrorSchema } } }
  return out
}

export const json = <T>(schema: T, description: string) => ({ description, content: { 'application/json': { schema } } })
