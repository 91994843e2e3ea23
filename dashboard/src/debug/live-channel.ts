import { Client } from '@herald/client'
import type { Message, PresenceEvent, PresenceMember } from '@herald/protocol'

export interface LiveChannelHandlers {
  onMessage(message: Message): void
  onSubscribed(info: { channel: string; epoch?: string; seq?: number }): void
  onPresence(event: PresenceEvent): void
  onMembers(members: PresenceMember[]): void
  onError(error: unknown): void
  onState(state: string, transport: string | null, reason: string): void
}

/** What the console needs from one subscription. */
export interface LiveChannel {
  readonly channel: string
  refreshMembers(): Promise<void>
  close(): void
}

/**
 * Opens a browser-SDK client for one app and subscribes to one channel, with a token the
 * page signs itself (`getToken` signs a fresh one when the SDK asks for a refresh).
 * @example const live = openLiveChannel({ appId, channel: 'chat', getToken }, handlers)
 */
export function openLiveChannel(
  options: { appId: string; channel: string; getToken(): Promise<string>; url?: string },
  handlers: LiveChannelHandlers,
): LiveChannel {
  let closed = false
  const client = new Client({ url: options.url ?? location.origin, appId: options.appId, getToken: options.getToken })
  client.on('state', ({ current, reason }) => {
    if (!closed) handlers.onState(current, client.transport ?? null, reason)
  })
  const sub = client.subscribe(options.channel, (message) => {
    if (!closed) handlers.onMessage(message)
  })
  const refreshMembers = async () => {
    try {
      const reply: unknown = await sub.members()
      const members = Array.isArray(reply) ? reply : ((reply as { members?: PresenceMember[] }).members ?? [])
      if (!closed) handlers.onMembers(members as PresenceMember[])
    } catch (err) {
      if (!closed) handlers.onError(err)
    }
  }
  sub.on('subscribed', (info) => {
    if (closed) return
    handlers.onSubscribed({ channel: options.channel, ...(info as object) })
    if (options.channel.startsWith('presence-')) void refreshMembers()
  })
  sub.on('presence', (event) => {
    if (!closed) handlers.onPresence(event as PresenceEvent)
  })
  sub.on('error', (error) => {
    if (!closed) handlers.onError(error)
  })
  return {
    channel: options.channel,
    refreshMembers,
    close() {
      closed = true
      try {
        sub.unsubscribe()
      } finally {
        client.close()
      }
    },
  }
}
