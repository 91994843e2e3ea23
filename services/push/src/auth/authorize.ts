import { isPresenceChannel, isPrivateChannel, isValidChannel } from '@herald/protocol'
import type { App } from '../apps/types.js'
import { badRequest, forbidden } from '../errors.js'
import type { Identity } from './identity.js'

export type Action = 'subscribe' | 'publish' | 'history' | 'members'

/**
 * The channel rules of the contract, in one place, for every transport and API.
 * Throws `bad_request` for a bad channel name and `forbidden` when the identity may not act.
 *
 * - subscribe: public channels when `anonymousSubscribe` is on (or with `subscribe`);
 *   `private-*` needs `subscribe`; `presence-*` needs `sub` and `presence`.
 * - publish: always needs `publish` (Basic has its key's capability).
 * - history: needs `history`.
 * - members: needs `presence` (or `subscribe`) on the channel.
 */
export function authorize(app: App, identity: Identity, channel: unknown, action: Action): asserts channel is string {
  if (!isValidChannel(channel)) throw badRequest('channel must be 1..164 characters of [A-Za-z0-9_-=@.;:/]')
  if (identity.appId !== app.id) throw forbidden('identity belongs to another app')
  const cap = identity.kind === 'anonymous' ? null : identity.capability
  switch (action) {
    case 'subscribe': {
      if (isPresenceChannel(channel)) {
        if (identity.kind !== 'token' || !identity.clientId) throw forbidden('presence channels need a token with sub')
        if (!cap!.allows(channel, 'presence')) throw forbidden(`no presence capability on ${channel}`)
        return
      }
      if (isPrivateChannel(channel)) {
        if (!cap?.allows(channel, 'subscribe')) throw forbidden(`no subscribe capability on ${channel}`)
        return
      }
      if (app.settings.anonymousSubscribe || cap?.allows(channel, 'subscribe')) return
      throw forbidden(`anonymous subscribe is off for this app; a token with subscribe on ${channel} is needed`)
    }
    case 'publish':
      if (!cap?.allows(channel, 'publish')) throw forbidden(`no publish capability on ${channel}`)
      return
    case 'history':
      if (!cap?.allows(channel, 'history')) throw forbidden(`no history capability on ${channel}`)
      return
    case 'members':
      if (!cap || !(cap.allows(channel, 'presence') || cap.allows(channel, 'subscribe'))) throw forbidden(`no presence capability on ${channel}`)
      return
  }
}
