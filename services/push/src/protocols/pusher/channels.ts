import { isValidChannel } from '@herald/protocol'

/**
 * Pusher's channel-name grammar and channel kinds. A Pusher channel name is 1..164 characters
 * of `[A-Za-z0-9_\-=@,.;]`, or `#server-to-user-<user id>` (a user's own channel, written to by
 * the server only). A name that Herald's grammar allows as well is the same channel on both faces.
 */

/** 1..164 characters of `[A-Za-z0-9_\-=@,.;]`. */
export const PUSHER_CHANNEL_PATTERN = /^[A-Za-z0-9_\-=@,.;]{1,164}$/

/** The prefix of a user's channel, as `pusher.sendToUser` writes to it. */
export const SERVER_TO_USER_PREFIX = '#server-to-user-'

/**
 * A user id of `pusher:signin` and `#server-to-user-<id>`: 1..148 characters of either grammar
 * (`[A-Za-z0-9_\-=@,.;:/]`), so that the user channel fits 164 characters.
 */
export const PUSHER_USER_ID_PATTERN = /^[A-Za-z0-9_\-=@,.;:/]{1,148}$/

export type PusherChannelKind = 'public' | 'private' | 'private-encrypted' | 'presence' | 'server-to-user'

export interface PusherChannelInfo {
  kind: PusherChannelKind
  /** `cache-*`, `private-cache-*`, `private-encrypted-cache-*`, `presence-cache-*`: new subscribers get the last event. */
  cache: boolean
}

export function isValidPusherUserId(id: unknown): id is string {
  return typeof id === 'string' && PUSHER_USER_ID_PATTERN.test(id)
}

/** A name the Pusher face accepts: Pusher's grammar, or a user channel with a valid user id. */
export function isValidPusherChannel(name: unknown): name is string {
  if (typeof name !== 'string') return false
  if (name.startsWith(SERVER_TO_USER_PREFIX)) return isValidPusherUserId(name.slice(SERVER_TO_USER_PREFIX.length))
  return PUSHER_CHANNEL_PATTERN.test(name)
}

/** True when both faces can name the channel (Herald subscribers can reach it too). */
export function isSharedChannel(name: string): boolean {
  return isValidPusherChannel(name) && isValidChannel(name)
}

/** The kind of a valid Pusher channel name, and whether it is a cache channel. */
export function pusherChannelInfo(name: string): PusherChannelInfo {
  if (name.startsWith(SERVER_TO_USER_PREFIX)) return { kind: 'server-to-user', cache: false }
  if (name.startsWith('private-encrypted-')) return { kind: 'private-encrypted', cache: name.startsWith('private-encrypted-cache-') }
  if (name.startsWith('private-')) return { kind: 'private', cache: name.startsWith('private-cache-') }
  if (name.startsWith('presence-')) return { kind: 'presence', cache: name.startsWith('presence-cache-') }
  return { kind: 'public', cache: name.startsWith('cache-') }
}

/** Private, encrypted and presence channels need a signed `auth` to subscribe. */
export function needsChannelAuth(kind: PusherChannelKind): boolean {
  return kind === 'private' || kind === 'private-encrypted' || kind === 'presence'
}

/** Client events (`client-*`) are allowed on private and presence channels only (never encrypted). */
export function allowsClientEvents(kind: PusherChannelKind): boolean {
  return kind === 'private' || kind === 'presence'
}

/** `#server-to-user-<userId>`. */
export function userChannel(userId: string): string {
  return SERVER_TO_USER_PREFIX + userId
}

/** The user id of a `#server-to-user-<id>` channel, or undefined for any other channel. */
export function userIdOfChannel(name: string): string | undefined {
  return name.startsWith(SERVER_TO_USER_PREFIX) ? name.slice(SERVER_TO_USER_PREFIX.length) : undefined
}

/** `client-*`: an event a client may send (when the app's `clientEvents` is on). */
export function isClientEventName(name: string): boolean {
  return name.startsWith('client-')
}
