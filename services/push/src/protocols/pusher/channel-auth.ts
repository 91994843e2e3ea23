import type { PresenceMember } from '@herald/protocol'
import type { CompiledCapability } from '../../auth/capability.js'
import { heraldChannelOf, isValidPusherChannel, needsChannelAuth, pusherChannelInfo, userIdOfChannel, type PusherChannelInfo } from './channels.js'
import { parseSocketAuth, verifyChannelSignature } from './signature.js'

/** What a `pusher:subscribe` asks for, and who asks. */
export interface SubscribeRequest {
  channel: string
  auth?: string
  channelData?: string
  socketId: string
  /** The key the socket connected with (its secret signs channel auth). */
  keyId: string
  secret: string
  capability: CompiledCapability
  anonymousSubscribe: boolean
  /** The socket's signed-in user (`pusher:signin`), if any. */
  userId: string | undefined
}

export type SubscribeDecision =
  | { ok: true; channel: string; info: PusherChannelInfo; member: PresenceMember | null }
  /** `status` as pusher:subscription_error carries it: 400 bad input, 401 bad signature, 403 not allowed. */
  | { ok: false; status: 400 | 401 | 403; error: string }

const refuse = (status: 400 | 401 | 403, error: string): SubscribeDecision => ({ ok: false, status, error })

/**
 * Pusher's subscription rules: `private-*` / `private-encrypted-*` need `auth` signing
 * `socket_id:channel` with the socket's key, `presence-*` signing `socket_id:channel:channel_data`,
 * `#server-to-user-<id>` the socket signed in as that user, public channels the app's
 * `anonymousSubscribe`. The key's capability bounds it all (`subscribe`, `presence`).
 */
export function decideSubscribe(r: SubscribeRequest): SubscribeDecision {
  const name = r.channel
  if (!isValidPusherChannel(name)) return refuse(400, 'channel names are 1..164 characters of [A-Za-z0-9_-=@.;]')
  const channel = heraldChannelOf(name)
  const info = pusherChannelInfo(name)
  const ok = (member: PresenceMember | null = null): SubscribeDecision => ({ ok: true, channel, info, member })
  if (info.kind === 'server-to-user') {
    if (r.userId === undefined || userIdOfChannel(name) !== r.userId) return refuse(403, 'sign in as this user (pusher:signin) to subscribe to its channel')
    return ok()
  }
  if (!needsChannelAuth(info.kind)) {
    if (!r.anonymousSubscribe) return refuse(403, 'this app does not allow unauthenticated subscriptions (anonymousSubscribe is off): use a private- channel')
    return ok()
  }
  const auth = parseSocketAuth(r.auth)
  if (!auth) return refuse(401, 'auth must be "<key>:<hex HMAC-SHA256>"')
  if (auth.keyId !== r.keyId) return refuse(401, 'auth is signed for another key than the one this socket connected with')
  const presence = info.kind === 'presence'
  if (presence && r.channelData === undefined) return refuse(401, 'presence channels need channel_data')
  if (!verifyChannelSignature(r.secret, auth.signature, r.socketId, name, presence ? r.channelData : undefined)) {
    return refuse(401, `invalid signature: expected HMAC-SHA256 of "${r.socketId}:${name}${presence ? ':<channel_data>' : ''}"`)
  }
  if (!presence) return r.capability.allows(channel, 'subscribe') ? ok() : refuse(403, `the key has no subscribe capability on ${name}`)
  const member = parseChannelData(r.channelData!)
  if (typeof member === 'string') return refuse(400, member)
  return r.capability.allows(channel, 'presence') ? ok(member) : refuse(403, `the key has no presence capability on ${name}`)
}

/** Pusher `channel_data` (`{"user_id","user_info"?}`) as a presence member, or what is wrong with it. */
export function parseChannelData(text: string): PresenceMember | string {
  let raw: unknown
  try {
    raw = JSON.parse(text)
  } catch {
    return 'channel_data is not valid JSON'
  }
  const { user_id: userId, user_info: info } = (typeof raw === 'object' && raw !== null ? raw : {}) as { user_id?: unknown; user_info?: unknown }
  const id = typeof userId === 'number' && Number.isSafeInteger(userId) ? String(userId) : userId
  if (typeof id !== 'string' || id.length === 0 || id.length > 128) return 'channel_data needs a user_id (a string of 1..128 characters, or an integer)'
  if (info === undefined || info === null) return { clientId: id }
  if (typeof info !== 'object' || Array.isArray(info)) return 'user_info must be a JSON object'
  if (Buffer.byteLength(JSON.stringify(info)) > 1024) return 'user_info is larger than 1 KiB'
  return { clientId: id, info: info as Record<string, unknown> }
}
