import type { Context } from 'hono'
import type { App } from '../../apps/types.js'
import type { Identity } from '../../auth/identity.js'
import type { NodeContext } from '../../context.js'
import { badRequest, HeraldError, notFound, unauthorized } from '../../errors.js'
import { verifyApiRequest } from './signature.js'

/** A signed Pusher HTTP API call, once its app and signature are checked. */
export interface SignedCall {
  app: App
  /** The signing key, with its capability (what the call may do). */
  identity: Extract<Identity, { kind: 'basic' }>
  /** The parsed JSON body (undefined for a GET). */
  body: unknown
}

/**
 * Largest request body: a batch of 10 events of the largest allowed data, with room for
 * the envelope. Bigger bodies are refused with 413 before they are read.
 */
export const MAX_PUSHER_BODY_BYTES = 4 * 1024 * 1024

/**
 * Resolves `:appId`, reads the body and checks the request's Pusher signature with the key
 * named by `auth_key` (a live keyId of the app). Unknown app: 404; any signature problem: 401.
 */
export async function signedCall(ctx: NodeContext, c: Context, appId: string): Promise<SignedCall> {
  const app = await ctx.engine.app(appId)
  if (!app) throw notFound(`Unknown app ${appId.slice(0, 64)}`)
  const body = c.req.method === 'GET' || c.req.method === 'HEAD' ? new Uint8Array() : await readBody(c)
  const url = new URL(c.req.url)
  const result = await verifyApiRequest(
    { method: c.req.method, path: url.pathname, query: [...url.searchParams], body },
    async (keyId) => (await ctx.engine.key(app.id, keyId))?.key.secret ?? null,
    Date.now(),
  )
  if (!result.ok) {
    ctx.metrics.authFailures.inc({ app: app.id, transport: 'pusher-http', code: 'unauthorized' })
    throw unauthorized(result.message)
  }
  // The key may have been revoked between the check and here; keys are cached, so this is cheap.
  const key = await ctx.engine.key(app.id, result.keyId)
  if (!key) throw unauthorized(`Unknown auth_key ${result.keyId}`)
  return { app, identity: { kind: 'basic', appId: app.id, keyId: key.key.keyId, capability: key.capability }, body: parseBody(body) }
}

async function readBody(c: Context): Promise<Uint8Array> {
  const length = c.req.header('content-length')
  if (length !== undefined && Number(length) > MAX_PUSHER_BODY_BYTES) throw tooLarge()
  const stream = c.req.raw.body
  if (!stream) return new Uint8Array()
  // Read chunk by chunk so a chunked body without Content-Length is cut at the limit, not buffered whole.
  const chunks: Uint8Array[] = []
  let size = 0
  for await (const chunk of stream) {
    size += chunk.byteLength
    if (size > MAX_PUSHER_BODY_BYTES) throw tooLarge()
    chunks.push(chunk)
  }
  return Buffer.concat(chunks)
}

const tooLarge = () => new HeraldError('too_large', `Request body larger than ${MAX_PUSHER_BODY_BYTES} bytes`)

function parseBody(bytes: Uint8Array): unknown {
  if (bytes.length === 0) return undefined
  try {
    return JSON.parse(Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength).toString('utf8'))
  } catch {
    throw badRequest('Request body is not valid JSON')
  }
}
