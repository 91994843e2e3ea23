import { isPresenceChannel, type Message, type PresenceEvent } from '@herald/protocol'

/** The Pusher event name of a Herald message published without a `name`. */
export const UNNAMED_EVENT = 'message'

/**
 * A Herald message as the Pusher event text every Pusher subscriber gets:
 * `{"event":name,"channel":ch,"data":"<JSON text of data>"}`, plus `user_id` (the publisher's
 * clientId) on presence channels, which pusher-js hands to handlers as `metadata.user_id`.
 * Built once per message and shared.
 */
export function pusherMessageText(m: Message, channel: string = m.channel): string {
  let out = '{"event":' + JSON.stringify(m.name ?? UNNAMED_EVENT) + ',"channel":' + JSON.stringify(channel) + ',"data":' + JSON.stringify(JSON.stringify(m.data))
  if (m.clientId !== undefined && isPresenceChannel(channel)) out += ',"user_id":' + JSON.stringify(m.clientId)
  return out + '}'
}

/**
 * A Herald presence event as Pusher's `pusher_internal:member_added` / `member_removed`
 * (data as JSON text: `{"user_id","user_info"?}` / `{"user_id"}`).
 */
export function pusherPresenceText(e: PresenceEvent, channel: string = e.channel): string {
  const joined = e.action === 'join'
  const data = joined ? { user_id: e.member.clientId, ...(e.member.info === undefined ? {} : { user_info: e.member.info }) } : { user_id: e.member.clientId }
  return '{"event":' + (joined ? '"pusher_internal:member_added"' : '"pusher_internal:member_removed"') + ',"channel":' + JSON.stringify(channel) + ',"data":' + JSON.stringify(JSON.stringify(data)) + '}'
}
