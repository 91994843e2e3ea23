import { randomBytes } from 'node:crypto'
import type { HubSession } from '../engine/hub.js'

/** A new connection id: `c_` + 12 random bytes, base64url. */
export const newConnectionId = (): string => 'c_' + randomBytes(12).toString('base64url')

export type TransportName = 'websocket' | 'sse' | 'longpoll'

/** @deprecated the hub's {@link HubSession}. */
export type Connection = HubSession
