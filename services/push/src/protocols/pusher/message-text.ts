import type { Message, PresenceEvent } from '@herald/protocol'
import { pusherData, pusherEventName } from './data.js'

/**
 * A Herald message as the Pusher event text every Pusher subscriber gets:
 * `{"event":name,"channel":ch,"data":"<Pusher data>"}` (data.ts: Herald data as JSON text),
 * plus `user_id` (the sender's clientId) on client events of presence channels, which pusher-js
 * hands to handlers as `metadata.user_id`. Built once per message and shared.
 */
export function pusherMessageText(m: Message, channel: string = m.channel): string {
  const event = pusherEventName(m)
  let out = '{"event":' + JSON.stringify(event) + ',"channel":' + JSON.stringify(channel) + ',"data":' + JSON.stringify(pusherData(m.data))
  if (m.clientId !== undefined && channel.startsWith('presence-') && event.startsWith('client-')) out += ',"user_id":' + JSON.stringify(m.clientId)
  return out + '}'
}

/**
 * A Herald presence event as Pusher's `pusher_internal:member_added` / `member_removed`
 * (data as JSON text: `{"user_id","user_info"?}` / `{"user_id"}`).
 */
export function pusherPresenceText(e: PresenceEvent, channel: string = e.channel): string {
  const joined = e.action === 'join'
  const data = joined ? { user_id: e.member.clientId, ...(e.member.info === undefined ? {} : { user_info: e.member.info }) } : { user_id: e.member.clientId }
  return (
    '{"event":' +
    (joined ? '"pusher_internal:member_added"' : '"pusher_internal:member_removed"') +
    ',"channel":' +
    JSON.stringify(channel) +
    ',"data":' +
    JSON.stringify(JSON.stringify(data)) +
    '}'
  )
}
