/**
 * A user's own channel on both faces. Pusher names it `#server-to-user-<id>`; Herald's grammar
 * has no `#`, so inside the engine it is `private-server-to-user:<id>`: `:` is outside Pusher's
 * grammar (no Pusher client can name it) and `private-` keeps anonymous Herald clients out.
 */
const PUSHER_PREFIX = '#server-to-user-'
const HERALD_PREFIX = 'private-server-to-user:'

/** The engine's name of a Pusher channel (the same name, but for user channels). */
export function heraldChannelOf(pusherName: string): string {
  return pusherName.startsWith(PUSHER_PREFIX) ? HERALD_PREFIX + pusherName.slice(PUSHER_PREFIX.length) : pusherName
}

/** The Pusher name of an engine channel (the inverse of {@link heraldChannelOf}). */
export function pusherChannelOf(heraldName: string): string {
  return heraldName.startsWith(HERALD_PREFIX) ? PUSHER_PREFIX + heraldName.slice(HERALD_PREFIX.length) : heraldName
}
