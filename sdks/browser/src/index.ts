export { Client, type ClientOptions, type ClientEvents } from './client.js'
export {
  Subscription,
  type SubscriptionEvents,
  type SubscribedContext,
  type UnrecoveredContext,
  type SubscribeOptions,
  type PublishOptions,
  type PublishResult,
} from './subscription.js'
export type { ConnectionState, StateChange } from './state.js'
export { HeraldError } from './errors.js'
export { Backoff, type BackoffOptions } from './backoff.js'
export { decodeToken } from './token.js'
export type { Transport, TransportName, TransportFactory, TransportContext, TransportHandlers, TransportEnv, ChannelStart } from './transports/transport.js'
export { websocketTransport } from './transports/websocket.js'
export { sseTransport } from './transports/sse.js'
export { longpollTransport } from './transports/longpoll.js'
export type { Message, PresenceEvent, PresenceMember, Position } from '@herald/protocol'
