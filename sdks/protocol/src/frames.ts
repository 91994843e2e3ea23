import type { ErrorCode } from './codes.js'
import type { Message, PresenceAction, PresenceMember, Position } from './message.js'

/** Frames a client sends over WebSocket. Any frame may carry `ref`; the reply echoes it. */
export type ClientFrame =
  | { op: 'subscribe'; channel: string; since?: Position; rewind?: number; ref?: string | number }
  | { op: 'unsubscribe'; channel: string; ref?: string | number }
  | { op: 'publish'; channel: string; name?: string; data: unknown; id?: string; ref?: string | number }
  | { op: 'history'; channel: string; limit?: number; after?: number; ref?: string | number }
  | { op: 'members'; channel: string; ref?: string | number }
  | { op: 'auth'; token: string; ref?: string | number }
  | { op: 'ping'; ref?: string | number }

export type ClientOp = ClientFrame['op']

type Ref = { ref?: string | number }

/** Frames the server sends over WebSocket. */
export type ServerFrame =
  | { op: 'connected'; connectionId: string; clientId?: string; heartbeat: number }
  | ({ op: 'subscribed'; channel: string; epoch: string; seq: number; recovered?: boolean } & Ref)
  | ({ op: 'unsubscribed'; channel: string } & Ref)
  | ({ op: 'published'; channel: string; id: string; seq: number; epoch: string } & Ref)
  | ({ op: 'history'; channel: string; epoch: string; messages: Message[] } & Ref)
  | ({ op: 'members'; channel: string; members: PresenceMember[] } & Ref)
  | ({ op: 'authed'; exp: number } & Ref)
  | ({ op: 'pong' } & Ref)
  | ({ op: 'message' } & Message)
  | { op: 'presence'; channel: string; action: PresenceAction; member: PresenceMember }
  | ({ op: 'error'; code: ErrorCode; message: string; channel?: string } & Ref)

/** Reply of `GET …/poll`. */
export interface PollReply {
  cursor: string
  messages: Message[]
  recovered?: Record<string, false>
}

/** Data of the SSE `subscribed` event. */
export interface SseSubscribed {
  channel: string
  epoch: string
  seq: number
  recovered?: boolean
}

/** One message of a publish: `POST …/messages` body, or an entry of its `messages` batch. */
export interface PublishOne {
  channel: string
  name?: string
  data: unknown
  id?: string
}

/** Body of `POST …/messages`: one message, one message to several channels, or a batch (≤ 100). */
export type PublishBody = PublishOne | { channels: string[]; name?: string; data: unknown; id?: string } | { messages: PublishOne[] }

/** Reply of `POST …/messages`. */
export interface PublishReply {
  messages: Array<{ channel: string; id: string; seq: number; epoch: string }>
}

export interface HistoryReply {
  epoch: string
  messages: Message[]
}

export interface MembersReply {
  members: PresenceMember[]
  count: number
}

export interface ChannelsReply {
  channels: Array<{ name: string; subscribers: number }>
}
