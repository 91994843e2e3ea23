import type { EncodedMessage, EncodedPresence } from '../../engine/encoded.js'
import { defineFormat } from '../../engine/format.js'
import { frameText } from '../ws-output.js'
import { pusherMessageText, pusherPresenceText } from './message-text.js'
import { pusherChannelOf } from './channels.js'

/** A message or presence event as Pusher event text, built once per message. */
export const pusherTextFormat = defineFormat<string>('pusher-text', {
  message: (m: EncodedMessage) => pusherMessageText(m.message, pusherChannelOf(m.message.channel) ?? m.message.channel),
  presence: (p: EncodedPresence) => pusherPresenceText(p.event, pusherChannelOf(p.event.channel) ?? p.event.channel),
})

/** The complete WebSocket frame of the Pusher event: the same bytes for every Pusher socket. */
export const pusherWsFormat = defineFormat<Buffer>('pusher-ws', {
  message: (m: EncodedMessage) => frameText(Buffer.from(m.as(pusherTextFormat))),
  presence: (p: EncodedPresence) => frameText(Buffer.from(p.as(pusherTextFormat))),
})

/** A SockJS-style `a[...]` frame line (xhr_streaming, xhr_polling) carrying the Pusher event. */
export const pusherXhrFormat = defineFormat<string>('pusher-xhr', {
  message: (m: EncodedMessage) => xhrArray([m.as(pusherTextFormat)]),
  presence: (p: EncodedPresence) => xhrArray([p.as(pusherTextFormat)]),
})

/** `a["<event text>",…]\n`: what pusher-js's HTTP socket reads as a batch of events. */
export function xhrArray(texts: string[]): string {
  return 'a' + JSON.stringify(texts) + '\n'
}
