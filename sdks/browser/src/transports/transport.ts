import type { ClientFrame, ErrorCode, Message, PresenceEvent, ServerFrame, SseSubscribed, Position } from '@herald/protocol'
import type { Fetch } from '../http.js'

/** The three ways the SDK reaches Herald, in the default order of preference. */
export type TransportName = 'websocket' | 'sse' | 'longpoll'

/** Where one channel starts: after `since` when known, else at the head (or `rewind` back). */
export interface ChannelStart {
  channel: string
  since?: Position
  rewind?: number
}

/** Why a transport ended. */
export interface TransportClose {
  /** Whether the transport had opened (`open` was called) before it ended. */
  opened: boolean
  /** Herald's error code, when Herald answered with one. */
  code?: ErrorCode | undefined
  /** The WebSocket close code, or the HTTP status. */
  status?: number | undefined
  message: string
}

/** What a transport reports to the client. Nothing is called after `close()`. */
export interface TransportHandlers {
  open(info: { clientId?: string | undefined }): void
  subscribed(info: SseSubscribed): void
  message(message: Message): void
  presence(event: PresenceEvent): void
  /** A non-fatal error, about one channel when `channel` is set. */
  error(error: { code: ErrorCode; message: string; channel?: string | undefined }): void
  close(info: TransportClose): void
}

/** Globals a transport uses, injectable for tests and non-browser runtimes. */
export interface TransportEnv {
  WebSocket: typeof WebSocket
  EventSource: typeof EventSource
  fetch: Fetch
}

/** Everything a transport needs to open. */
export interface TransportContext {
  /** `http(s)://host[:port]` of the service. */
  url: string
  appId: string
  token: string | undefined
  /** The channels to be on, and where each resumes, read at (re)open time. */
  channels(): ChannelStart[]
  handlers: TransportHandlers
  env: TransportEnv
  /** How long opening may take before the next transport is tried, in ms. */
  connectTimeout: number
}

/** Requests only the WebSocket transport can carry (the others use the HTTP API). */
export type RequestFrame = Extract<ClientFrame, { op: 'publish' | 'history' | 'members' | 'auth' }>

/**
 * One connection to Herald. Implemented by `websocket.ts`, `sse.ts` and `longpoll.ts`.
 * After `close()` a transport calls no handler and holds no timer.
 */
export interface Transport {
  readonly name: TransportName
  open(): void
  subscribe(start: ChannelStart): void
  unsubscribe(channel: string): void
  /** Starts using a fresh token without losing the position. */
  setToken(token: string): void
  /** Sends a request over the connection, when this transport can (WebSocket, open). */
  request?(frame: RequestFrame): Promise<ServerFrame> | null
  close(): void
}

/** Creates a transport for one connection attempt. */
export type TransportFactory = (context: TransportContext) => Transport

/** `/v1/apps/:appId/<path>?query` on the service, with empty values left out. */
export function endpoint(ctx: Pick<TransportContext, 'url' | 'appId'>, path: string, query: Record<string, string | number | undefined>): string {
  const params: string[] = []
  for (const [k, v] of Object.entries(query)) if (v !== undefined && v !== '') params.push(`${k}=${encodeURIComponent(v)}`)
  return `${ctx.url.replace(/\/+$/, '')}/v1/apps/${encodeURIComponent(ctx.appId)}/${path}${params.length ? '?' + params.join('&') : ''}`
}
