import { randomInt } from 'node:crypto'

/** Pusher's socket id grammar (`socket_id` in `pusher:connection_established` and in auth signatures). */
export const SOCKET_ID = /^\d+\.\d+$/

const HIGH = 10 ** 12

/**
 * A new Pusher socket id: two random decimal integers joined by a dot, as Pusher makes them
 * (`123456789012.345678901234`). About 80 random bits, so ids made on different nodes do not
 * collide: the id doubles as the session id that `socket_id` exclusion names cluster-wide.
 */
export function newSocketId(): string {
  return `${randomInt(1, HIGH)}.${randomInt(1, HIGH)}`
}
