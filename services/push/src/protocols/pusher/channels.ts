import { isValidChannel } from '@herald/protocol'

/**
 * Pusher's channel-name grammar and channel kinds, and how a Pusher channel name maps to the
 * Herald channel it is. A Pusher channel name is 1..164 characters of `[A-Za-z0-9_\-=@.;]`, or
 * `#server-to-user-<user id>` (a user's own channel, written to by the server only).
 *
 * One channel, two faces: every ordinary Pusher name is also a Herald name, and is the same
 * channel on both faces. Pusher allows a comma too, Herald does not (it separates channels in
 * `channels=a,b`), so the Pusher face refuses names with a comma rather than make a channel only
 * one face can reach. A user channel `#server-to-user-<id>` is the Herald channel
 * `private-server-to-user:<id>` (`:` is outside Pusher's grammar, so no Pusher client can name it
 * directly; Herald clients need a token with `subscribe` on it).
 */

/** 1..164 characters of `[A-Za-z0-9_\-=@.;]` (Pusher's grammar without the comma). */
export const PUSHER_CHANNEL_PATTERN = /^[A-Za-z0-9_\-=@.;]{1,164}$/

/** The prefix of a user's channel, as `pusher.sendToUser` writes to it. */
export const SERVER_TO_USER_PREFIX = '#server-to-user-'

/** The Herald name of a user channel: this prefix and the user id. */
export const HERALD_USER_CHANNEL_PREFIX = 'private-server-to-user:'

/**
 * A user id of `pusher:signin` and `#server-to-user-<id>`: 1..141 characters of Herald's channel
 * grammar (`[A-Za-z0-9_\-=@.;:/]`), so that the user's Herald channel fits 164 characters.
 */
export const PUSHER_USER_ID_PATTERN = /^[A-Za-z0-9_\-=@.;:/]{1,141}$/

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

/** The Herald channel a valid Pusher channel name is (the same name, but for user channels). */
export function heraldChannelOf(pusherName: string): string {
  return pusherName.startsWith(SERVER_TO_USER_PREFIX) ? HERALD_USER_CHANNEL_PREFIX + pusherName.slice(SERVER_TO_USER_PREFIX.length) : pusherName
}

/** The Pusher name of a Herald channel, or undefined when Pusher clients cannot name it (`chat:1`). */
export function pusherChannelOf(heraldName: string): string | undefined {
  if (heraldName.startsWith(HERALD_USER_CHANNEL_PREFIX)) {
    const userId = heraldName.slice(HERALD_USER_CHANNEL_PREFIX.length)
    return isValidPusherUserId(userId) ? SERVER_TO_USER_PREFIX + userId : undefined
  }
  return PUSHER_CHANNEL_PATTERN.test(heraldName) && isValidChannel(heraldName) ? heraldName : undefined
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
