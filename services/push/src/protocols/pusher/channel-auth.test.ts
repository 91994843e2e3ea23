import { describe, expect, it } from 'vitest'
import { compileCapability } from '../../auth/capability.js'
import { decideSubscribe, parseChannelData, type SubscribeRequest } from './channel-auth.js'
import { signChannel } from './signature.js'

const base: Omit<SubscribeRequest, 'channel'> = {
  socketId: '1.2',
  keyId: 'key_a',
  secret: 's3cret',
  capability: compileCapability({ '*': ['subscribe', 'presence'] }),
  anonymousSubscribe: true,
  userId: undefined,
}
const signed = (channel: string, channelData?: string, socketId = base.socketId, keyId = base.keyId, secret = base.secret) => ({
  ...base,
  channel,
  auth: signChannel(keyId, secret, socketId, channel, channelData),
  ...(channelData === undefined ? {} : { channelData }),
})

describe('decideSubscribe', () => {
  it('lets public channels in while anonymousSubscribe is on', () => {
    expect(decideSubscribe({ ...base, channel: 'news' })).toMatchObject({ ok: true, channel: 'news', member: null })
    expect(decideSubscribe({ ...base, channel: 'news', anonymousSubscribe: false })).toMatchObject({ ok: false, status: 403 })
  })

  it('checks private and encrypted signatures against socket, channel, key and secret', () => {
    expect(decideSubscribe(signed('private-a'))).toMatchObject({ ok: true, info: { kind: 'private' } })
    expect(decideSubscribe(signed('private-encrypted-a'))).toMatchObject({ ok: true, info: { kind: 'private-encrypted' } })
    expect(decideSubscribe({ ...signed('private-a'), channel: 'private-b' })).toMatchObject({ ok: false, status: 401 })
    expect(decideSubscribe(signed('private-a', undefined, '9.9'))).toMatchObject({ ok: false, status: 401 })
    expect(decideSubscribe(signed('private-a', undefined, base.socketId, 'key_b'))).toMatchObject({
      ok: false,
      status: 401,
      error: expect.stringContaining('another key'),
    })
    expect(decideSubscribe(signed('private-a', undefined, base.socketId, base.keyId, 'wrong'))).toMatchObject({ ok: false, status: 401 })
    expect(decideSubscribe({ ...base, channel: 'private-a' })).toMatchObject({ ok: false, status: 401 })
  })

  it('signs presence with channel_data and takes the member from it', () => {
    const data = JSON.stringify({ user_id: 7, user_info: { name: 'Ann' } })
    expect(decideSubscribe(signed('presence-r', data))).toEqual({
      ok: true,
      channel: 'presence-r',
      info: { kind: 'presence', cache: false },
      member: { clientId: '7', info: { name: 'Ann' } },
    })
    expect(decideSubscribe({ ...signed('presence-r', data), channelData: JSON.stringify({ user_id: 8 }) })).toMatchObject({ ok: false, status: 401 })
    expect(decideSubscribe({ ...signed('presence-r', data), channelData: undefined })).toMatchObject({ ok: false, status: 401 })
  })

  it('bounds everything by the key capability', () => {
    const capability = compileCapability({ 'private-ok*': ['subscribe'] })
    expect(decideSubscribe({ ...signed('private-ok-1'), capability })).toMatchObject({ ok: true })
    expect(decideSubscribe({ ...signed('private-no'), capability })).toMatchObject({ ok: false, status: 403 })
    expect(decideSubscribe({ ...signed('presence-r', '{"user_id":"u"}'), capability })).toMatchObject({ ok: false, status: 403 })
  })

  it('opens #server-to-user-<id> to the socket signed in as that user only', () => {
    expect(decideSubscribe({ ...base, channel: '#server-to-user-u1', userId: 'u1' })).toMatchObject({ ok: true, channel: 'private-server-to-user:u1' })
    expect(decideSubscribe({ ...base, channel: '#server-to-user-u1', userId: 'u2' })).toMatchObject({ ok: false, status: 403 })
    expect(decideSubscribe({ ...base, channel: '#server-to-user-u1' })).toMatchObject({ ok: false, status: 403 })
  })

  it('refuses names outside Pusher grammar with 400', () => {
    expect(decideSubscribe({ ...base, channel: 'a,b' })).toMatchObject({ ok: false, status: 400 })
    expect(decideSubscribe({ ...base, channel: 'x'.repeat(200) })).toMatchObject({ ok: false, status: 400 })
  })
})

describe('parseChannelData', () => {
  it.each([
    ['not json', 'not valid JSON'],
    ['{}', 'user_id'],
    ['{"user_id":""}', 'user_id'],
    ['{"user_id":"u","user_info":[1]}', 'JSON object'],
    [JSON.stringify({ user_id: 'u', user_info: { x: 'y'.repeat(2000) } }), '1 KiB'],
  ])('refuses %s', (text, message) => {
    expect(parseChannelData(text)).toContain(message)
  })
})
