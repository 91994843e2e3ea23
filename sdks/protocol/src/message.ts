/** A channel message, in the one shape every transport and API uses. */
export interface Message {
  channel: string
  id: string
  seq: number
  epoch: string
  name?: string
  data: unknown
  ts: number
  clientId?: string
}

/** A channel's position: the last `seq` inside an `epoch`. */
export interface Position {
  epoch: string
  seq: number
}

export interface PresenceMember {
  clientId: string
  info?: Record<string, unknown>
}

export type PresenceAction = 'join' | 'leave'

export interface PresenceEvent {
  channel: string
  action: PresenceAction
  member: PresenceMember
}

/** 1..164 chars of `[A-Za-z0-9_\-=@.;:/]`. */
export const CHANNEL_PATTERN = /^[A-Za-z0-9_\-=@.;:/]{1,164}$/

export function isValidChannel(name: unknown): name is string {
  return typeof name === 'string' && CHANNEL_PATTERN.test(name)
}

export function isPrivateChannel(name: string): boolean {
  return name.startsWith('private-')
}

export function isPresenceChannel(name: string): boolean {
  return name.startsWith('presence-')
}

export function isPublicChannel(name: string): boolean {
  return !isPrivateChannel(name) && !isPresenceChannel(name)
}

/** Splits `a,b,c` as used by the SSE and poll query strings; empty parts are dropped. */
export function splitChannels(list: string): string[] {
  return list.split(',').filter((c) => c.length > 0)
}
