import { describe, expect, it } from 'vitest'
import { DEFAULT_EVENT_NAME } from './data.js'
import { pusherMessageText, pusherPresenceText } from './message-text.js'

const base = { id: 'm_1', seq: 1, epoch: 'e_1', ts: 1 }

describe('pusherMessageText', () => {
  it('is the Pusher event with data as JSON text', () => {
    const text = pusherMessageText({ ...base, channel: 'chat', name: 'greeting', data: { hello: 'world' } })
    expect(JSON.parse(text)).toEqual({ event: 'greeting', channel: 'chat', data: '{"hello":"world"}' })
  })

  it('names an unnamed message; a plain string goes as it is, JSON-looking text stays a string', () => {
    expect(JSON.parse(pusherMessageText({ ...base, channel: 'chat', data: 'hi' }))).toEqual({ event: DEFAULT_EVENT_NAME, channel: 'chat', data: 'hi' })
    expect(JSON.parse(pusherMessageText({ ...base, channel: 'chat', data: '5' })).data).toBe('"5"')
  })

  it('adds user_id to client events on presence channels only', () => {
    expect(JSON.parse(pusherMessageText({ ...base, channel: 'presence-room', name: 'server', data: 1, clientId: 'u1' }))).not.toHaveProperty('user_id')
    expect(JSON.parse(pusherMessageText({ ...base, channel: 'presence-room', name: 'client-x', data: 1, clientId: 'u1' }))).toEqual({
      event: 'client-x',
      channel: 'presence-room',
      data: '1',
      user_id: 'u1',
    })
    expect(JSON.parse(pusherMessageText({ ...base, channel: 'private-room', name: 'client-x', data: 1, clientId: 'u1' }))).not.toHaveProperty('user_id')
  })

  it('can name the channel as the Pusher face knows it', () => {
    expect(JSON.parse(pusherMessageText({ ...base, channel: 'internal', name: 'n', data: 1 }, '#server-to-user-1')).channel).toBe('#server-to-user-1')
  })
})

describe('pusherPresenceText', () => {
  it('maps join and leave to member_added / member_removed', () => {
    expect(JSON.parse(pusherPresenceText({ channel: 'presence-a', action: 'join', member: { clientId: 'u1', info: { name: 'Ann' } } }))).toEqual({
      event: 'pusher_internal:member_added',
      channel: 'presence-a',
      data: '{"user_id":"u1","user_info":{"name":"Ann"}}',
    })
    expect(JSON.parse(pusherPresenceText({ channel: 'presence-a', action: 'leave', member: { clientId: 'u1', info: { name: 'Ann' } } }))).toEqual({
      event: 'pusher_internal:member_removed',
      channel: 'presence-a',
      data: '{"user_id":"u1"}',
    })
  })
})
