import { describe, expect, it } from 'vitest'
import { heraldData, pusherData, toPusherEvent } from './data.js'

const message = { channel: 'presence-room', id: 'm_1', seq: 1, epoch: 'e_1', ts: 1, data: { a: 1 } }

describe('one channel, two faces: data', () => {
  it('turns Pusher JSON text into the JSON value, and keeps any other string', () => {
    expect(heraldData('{"a":[1,2]}')).toEqual({ a: [1, 2] })
    expect(heraldData('5')).toBe(5)
    expect(heraldData('"5"')).toBe('5')
    expect(heraldData('null')).toBeNull()
    expect(heraldData('hello')).toBe('hello')
    expect(heraldData('{broken')).toBe('{broken')
    expect(heraldData('')).toBe('')
  })

  it('gives Pusher clients JSON text, and strings that are not JSON as they are', () => {
    expect(pusherData({ a: 1 })).toBe('{"a":1}')
    expect(pusherData(5)).toBe('5')
    expect(pusherData(null)).toBe('null')
    expect(pusherData('hello')).toBe('hello')
    expect(pusherData('5')).toBe('"5"')
    expect(pusherData('true')).toBe('"true"')
  })

  it('round-trips: Pusher → Herald → Pusher gives the same value back', () => {
    for (const text of ['hello', '"5"', '5', '{"a":1}', '[]', '', 'true', '"hello"']) {
      expect(heraldData(pusherData(heraldData(text)))).toEqual(heraldData(text))
    }
    for (const value of ['hello', '5', 5, { a: 'b' }, [1], null, '', ' 7']) {
      expect(heraldData(pusherData(value))).toEqual(value)
    }
  })

  it('maps a Herald message to the Pusher event, name to event, user_id only on presence client events', () => {
    expect(toPusherEvent({ ...message, name: 'greet' })).toEqual({ event: 'greet', channel: 'presence-room', data: '{"a":1}' })
    expect(toPusherEvent(message).event).toBe('message')
    expect(toPusherEvent({ ...message, name: 'client-typing', clientId: 'u1' })).toEqual({ event: 'client-typing', channel: 'presence-room', data: '{"a":1}', user_id: 'u1' })
    expect(toPusherEvent({ ...message, channel: 'private-x', name: 'client-typing', clientId: 'u1' }).user_id).toBeUndefined()
  })
})
