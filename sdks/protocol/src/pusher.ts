import { CloseCodes } from './codes.js'

/**
 * The codes of the Pusher Channels protocol (protocol 7), as pusher-js reads them: the close
 * codes (also sent as `pusher:error` `code` before the close) and the `pusher:error` codes a
 * socket gets without being closed. Defined once here for the service and the dashboard.
 *
 * What pusher-js does after a close, by range (see {@link pusherCloseAction}):
 * - 4000: reconnect over TLS;
 * - 4001–4099: do not reconnect (the cause must be fixed: unknown key, over quota, …);
 * - 4100–4199: reconnect after backing off;
 * - 4200–4299: reconnect at once;
 * - 1002–1004: back off; other codes below 4000: reconnect.
 */
export const PusherCloseCodes = {
  /** The app accepts TLS connections only. */
  tlsOnly: 4000,
  /** Unknown or revoked key: the application does not exist for this key. */
  appNotFound: 4001,
  /** The application is disabled (deleted while connected). */
  appDisabled: 4003,
  /** The application is over its connection quota (`maxConnections`). */
  overConnectionQuota: 4004,
  /** No such path. */
  pathNotFound: 4005,
  /** The `version` query parameter is not a version. */
  invalidVersion: 4006,
  /** The `protocol` query parameter is a protocol this server does not speak. */
  unsupportedProtocol: 4007,
  /** No `protocol` query parameter. */
  noProtocol: 4008,
  /** The connection is not authorized (user sign-in refused or missing, key capability). */
  unauthorized: 4009,
  /** Over capacity, rate limited or too slow to keep up: reconnect after backing off. */
  overCapacity: 4100,
  /** Generic "reconnect now": the server is going away. */
  reconnect: 4200,
  /** A ping was sent and no pong came back. */
  pongNotReceived: 4201,
  /** Closed after inactivity. */
  inactivity: 4202,
} as const

export type PusherCloseCode = (typeof PusherCloseCodes)[keyof typeof PusherCloseCodes]

/** `pusher:error` codes sent while the socket stays open (4300–4399: "any other error"). */
export const PusherErrorCodes = {
  /** A client event was refused: rate limit, not enabled, wrong channel, not subscribed, too large. */
  clientEventRejected: 4301,
  /** The server could not handle a frame (malformed JSON, unknown event). */
  badFrame: 4302,
} as const

export type PusherErrorCode = (typeof PusherErrorCodes)[keyof typeof PusherErrorCodes]

/** What pusher-js does after a close code: as its `Protocol.getCloseAction`. */
export type PusherCloseAction = 'tls_only' | 'refused' | 'backoff' | 'retry' | 'reconnect'

/** The reconnect meaning of a close code, by Pusher's ranges (`reconnect`: pusher-js's normal retry). */
export function pusherCloseAction(code: number): PusherCloseAction {
  if (code < 4000) return code >= 1002 && code <= 1004 ? 'backoff' : 'reconnect'
  if (code === PusherCloseCodes.tlsOnly) return 'tls_only'
  if (code < 4100) return 'refused'
  if (code < 4200) return 'backoff'
  if (code < 4300) return 'retry'
  return 'refused'
}

/**
 * The Pusher close code for a Herald contract close code, so that a Pusher socket ended by the
 * engine (key revoked, app deleted, slow consumer, shutdown) makes pusher-js do the right thing:
 * refused credentials stop it, overload backs it off, a shutdown makes it reconnect at once.
 */
export function pusherCloseFor(heraldCloseCode: number): number {
  switch (heraldCloseCode) {
    case CloseCodes.normal:
      return CloseCodes.normal
    case CloseCodes.goingAway:
      return PusherCloseCodes.reconnect
    case CloseCodes.unauthorized:
      return PusherCloseCodes.appNotFound
    case CloseCodes.forbidden:
      return PusherCloseCodes.unauthorized
    case CloseCodes.appGone:
      return PusherCloseCodes.appDisabled
    default:
      // rate limited, too slow, frame too large, internal: try again later
      return PusherCloseCodes.overCapacity
  }
}
