import { describe, expect, it } from 'vitest'
import { parsePusherFrame, PusherFrameError, pusherError, pusherEvent, subscriptionError } from './frames.js'

describe('parsePusherFrame', () => {
  it('reads what pusher-js sends', () => {
    expect(parsePusherFrame('{"event":"pusher:ping","data":{}}')).toEqual({ kind: 'ping' })
    expect(parsePusherFrame('{"event":"pusher:pong","data":{}}')).toEqual({ kind: 'pong' })
    expect(parsePusherFrame('{"event":"pusher:subscribe","data":{"channel":"chat"}}')).toEqual({ kind: 'subscribe', channel: 'chat' })
    expect(parsePusherFrame('{"event":"pusher:subscribe","data":{"auth":"k:abc","channel_data":"{\\"user_id\\":\\"1\\"}","channel":"presence-a"}}')).toEqual({
      kind: 'subscribe',
      channel: 'presence-a',
      auth: 'k:abc',
      channelData: '{"user_id":"1"}',
    })
    expect(parsePusherFrame('{"event":"pusher:unsubscribe","data":{"channel":"chat"}}')).toEqual({ kind: 'unsubscribe', channel: 'chat' })
    expect(parsePusherFrame('{"event":"pusher:signin","data":{"auth":"k:s","user_data":"{\\"id\\":\\"u\\"}"}}')).toEqual({
      kind: 'signin',
      auth: 'k:s',
      userData: '{"id":"u"}',
    })
    expect(parsePusherFrame('{"event":"client-typing","channel":"private-a","data":{"x":1}}')).toEqual({
      kind: 'client',
      event: 'client-typing',
      channel: 'private-a',
      data: { x: 1 },
    })
  })

  it('accepts pusher:* data given as JSON text (some clients send it so)', () => {
    expect(parsePusherFrame('{"event":"pusher:subscribe","data":"{\\"channel\\":\\"chat\\"}"}')).toEqual({ kind: 'subscribe', channel: 'chat' })
  })

  it.each([
    ['not json', 'not valid JSON'],
    ['[1,2]', 'JSON object'],
    ['{"data":{}}', 'event must be'],
    ['{"event":"pusher:subscribe","data":{}}', 'channel must be'],
    ['{"event":"pusher:subscribe","data":7}', 'data must be an object'],
    ['{"event":"pusher:signin","data":{"auth":"x"}}', 'user_data'],
    ['{"event":"pusher:bogus"}', 'unsupported event'],
    ['{"event":"typing","channel":"private-a","data":1}', 'client-*'],
    ['{"event":"client-typing","data":1}', 'channel must be'],
    ['{"event":"client-typing","channel":"private-a"}', 'needs data'],
  ])('refuses %s', (text, message) => {
    expect(() => parsePusherFrame(text)).toThrow(PusherFrameError)
    expect(() => parsePusherFrame(text)).toThrow(message)
  })

  it('keeps the channel of a refused frame so the error can name it', () => {
    try {
      parsePusherFrame('{"event":"typing","channel":"private-a","data":1}')
      expect.unreachable()
    } catch (err) {
      expect((err as PusherFrameError).channel).toBe('private-a')
    }
  })

  it('refuses oversized names', () => {
    expect(() => parsePusherFrame(JSON.stringify({ event: 'client-' + 'x'.repeat(300), channel: 'private-a', data: 1 }))).toThrow('longer than')
  })
})

describe('server events', () => {
  it('sends data as JSON text, as Pusher does', () => {
    const text = pusherEvent('pusher:connection_established', undefined, { socket_id: '1.2', activity_timeout: 120 })
    expect(JSON.parse(text)).toEqual({ event: 'pusher:connection_established', data: '{"socket_id":"1.2","activity_timeout":120}' })
    expect(JSON.parse(pusherEvent('pusher_internal:subscription_succeeded', 'chat', {}))).toEqual({
      event: 'pusher_internal:subscription_succeeded',
      channel: 'chat',
      data: '{}',
    })
    expect(JSON.parse(pusherEvent('pusher:cache_miss', 'cache-a'))).toEqual({ event: 'pusher:cache_miss', channel: 'cache-a' })
  })

  it('errors carry code and message', () => {
    expect(JSON.parse(pusherError(4001, 'unknown key'))).toEqual({ event: 'pusher:error', data: { code: 4001, message: 'unknown key' } })
    expect(JSON.parse(pusherError(4301, 'no', 'private-a'))).toEqual({ event: 'pusher:error', channel: 'private-a', data: { code: 4301, message: 'no' } })
    expect(JSON.parse(subscriptionError('private-a', 403, 'bad signature'))).toEqual({
      event: 'pusher:subscription_error',
      channel: 'private-a',
      data: { type: 'AuthError', error: 'bad signature', status: 403 },
    })
  })
})

describe('what pusher-js sends for public channels', () => {
  it('reads an empty auth as no auth', () => {
    expect(parsePusherFrame('{"event":"pusher:subscribe","data":{"auth":"","channel":"news"}}')).toEqual({ kind: 'subscribe', channel: 'news' })
  })
})
