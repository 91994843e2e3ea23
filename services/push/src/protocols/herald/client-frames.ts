import type { ClientFrame } from '@herald/protocol'
import { z } from 'zod'
import { badRequest } from '../../errors.js'

const Ref = z.union([z.string().max(64), z.number().int().safe()]).optional()
const Channel = z.string().max(200)
const Position = z.object({ epoch: z.string().min(1).max(64), seq: z.number().int().min(0).safe() }).strict()

/** The client frames of the contract; unknown fields are rejected so typos surface. */
const Frame = z.discriminatedUnion('op', [
  z
    .object({ op: z.literal('subscribe'), channel: Channel, since: Position.optional(), rewind: z.number().int().min(0).max(10_000).optional(), ref: Ref })
    .strict(),
  z.object({ op: z.literal('unsubscribe'), channel: Channel, ref: Ref }).strict(),
  z.object({ op: z.literal('publish'), channel: Channel, name: z.unknown().optional(), data: z.unknown(), id: z.unknown().optional(), ref: Ref }).strict(),
  z
    .object({
      op: z.literal('history'),
      channel: Channel,
      limit: z.number().int().min(1).max(1000).optional(),
      after: z.number().int().min(0).safe().optional(),
      ref: Ref,
    })
    .strict(),
  z.object({ op: z.literal('members'), channel: Channel, ref: Ref }).strict(),
  z.object({ op: z.literal('auth'), token: z.string().min(1).max(16_384), ref: Ref }).strict(),
  z.object({ op: z.literal('ping'), ref: Ref }).strict(),
])

const OPS = new Set(['subscribe', 'unsubscribe', 'publish', 'history', 'members', 'auth', 'ping'])

/**
 * Parses one text frame. Throws `bad_request` with a message that says what is wrong;
 * `ref` is returned separately whenever it can be read, so the error can echo it.
 */
export function parseClientFrame(text: string): ClientFrame {
  let raw: unknown
  try {
    raw = JSON.parse(text)
  } catch {
    throw badRequest('frame is not valid JSON')
  }
  if (typeof raw !== 'object' || raw === null || Array.isArray(raw)) throw badRequest('frame must be a JSON object')
  const op = (raw as { op?: unknown }).op
  if (typeof op !== 'string' || !OPS.has(op)) throw badRequest(`unknown op ${JSON.stringify(op ?? null).slice(0, 40)}`)
  const parsed = Frame.safeParse(raw)
  if (!parsed.success) {
    const issue = parsed.error.issues[0]!
    throw badRequest(`${op}: ${issue.path.join('.') || 'frame'}: ${issue.message}`)
  }
  if (parsed.data.op === 'publish' && !('data' in (raw as object))) throw badRequest('publish: data is required')
  return parsed.data as ClientFrame
}

/** The `ref` of a frame that failed to parse, when there is one. */
export function refOf(text: string): string | number | undefined {
  try {
    const ref = (JSON.parse(text) as { ref?: unknown }).ref
    return typeof ref === 'string' || typeof ref === 'number' ? ref : undefined
  } catch {
    return undefined
  }
}
