import { describe, expect, it } from 'vitest'
import { isValidChannel } from '@herald/protocol'
import { allowsClientEvents, heraldChannelOf, isValidPusherChannel, needsChannelAuth, pusherChannelInfo, pusherChannelOf, userChannel, userIdOfChannel } from './channels.js'

describe('Pusher channel names', () => {
  it('follow Pusher grammar without the comma: [A-Za-z0-9_-=@.;], 1..164, or #server-to-user-<id>', () => {
    for (const ok of ['chat', 'private-App.Models.User.1', 'presence-room=1;x@y.z', 'a'.repeat(164), '#server-to-user-42', '#server-to-user-a:b/c']) {
      expect(isValidPusherChannel(ok)).toBe(true)
    }
    for (const bad of ['', 'a'.repeat(165), 'chat:1', 'a/b', 'a,b', 'a b', 'é', '#other', '#server-to-user-', '#server-to-user-a,b', `#server-to-user-${'a'.repeat(142)}`, 42, null]) {
      expect(isValidPusherChannel(bad)).toBe(false)
    }
  })

  it('are one channel with Herald: the same name, and user channels under private-server-to-user:', () => {
    expect(heraldChannelOf('private-orders')).toBe('private-orders')
    expect(heraldChannelOf('#server-to-user-u:1')).toBe('private-server-to-user:u:1')
    expect(pusherChannelOf('private-orders')).toBe('private-orders')
    expect(pusherChannelOf('private-server-to-user:u:1')).toBe('#server-to-user-u:1')
    expect(pusherChannelOf('chat:1')).toBeUndefined()
    for (const name of ['news', 'presence-x', `#server-to-user-${'u'.repeat(141)}`, 'private-encrypted-cache-x']) {
      expect(isValidChannel(heraldChannelOf(name))).toBe(true)
      expect(pusherChannelOf(heraldChannelOf(name))).toBe(name)
    }
  })

  it('have kinds, cache variants and their rules', () => {
    expect(pusherChannelInfo('news')).toEqual({ kind: 'public', cache: false })
    expect(pusherChannelInfo('cache-news')).toEqual({ kind: 'public', cache: true })
    expect(pusherChannelInfo('private-x')).toEqual({ kind: 'private', cache: false })
    expect(pusherChannelInfo('private-cache-x')).toEqual({ kind: 'private', cache: true })
    expect(pusherChannelInfo('private-encrypted-x')).toEqual({ kind: 'private-encrypted', cache: false })
    expect(pusherChannelInfo('private-encrypted-cache-x')).toEqual({ kind: 'private-encrypted', cache: true })
    expect(pusherChannelInfo('presence-x')).toEqual({ kind: 'presence', cache: false })
    expect(pusherChannelInfo('presence-cache-x')).toEqual({ kind: 'presence', cache: true })
    expect(pusherChannelInfo('#server-to-user-7')).toEqual({ kind: 'server-to-user', cache: false })
    expect(['public', 'private', 'private-encrypted', 'presence', 'server-to-user'].filter((k) => needsChannelAuth(k as never))).toEqual(['private', 'private-encrypted', 'presence'])
    expect(['public', 'private', 'private-encrypted', 'presence', 'server-to-user'].filter((k) => allowsClientEvents(k as never))).toEqual(['private', 'presence'])
  })

  it('name a user channel and read its user back', () => {
    expect(userChannel('u1')).toBe('#server-to-user-u1')
    expect(userIdOfChannel('#server-to-user-u1')).toBe('u1')
    expect(userIdOfChannel('private-u1')).toBeUndefined()
  })
})
