import { decodeCursor, type Message } from '@herald/protocol'
import { describe, expect, it } from 'vitest'
import { EncodedMessage, EncodedPresence } from '../../engine/encoded.js'
import { sseData, sseSingle, sseSingleNamed, sseType } from './sse-format.js'
import { streamOptionsFromEnv } from './stream-options.js'

const message: Message = { channel: 'chat', id: 'm_1', seq: 7, epoch: 'e_abc', name: 'greeting', data: { text: 'a\nb' }, ts: 1 }

describe('SSE encoding of a message', () => {
  it('builds each single-channel event once and shares the bytes', () => {
    const m = EncodedMessage.of(message)
    const plain = m.as(sseSingle)
    expect(m.as(sseSingle)).toBe(plain)
    expect(m.as(sseSingleNamed)).toBe(m.as(sseSingleNamed))
    const text = plain.toString()
    const lines = text.split('\n')
    expect(lines[0]).toBe('event: message')
    expect(decodeCursor(lines[1]!.slice('id: '.length))).toEqual({ chat: { epoch: 'e_abc', seq: 7 } })
    // JSON never holds a raw line break, so the data is one line and the event ends with a blank line.
    expect(lines[2]).toBe('data: ' + JSON.stringify(message))
    expect(text.endsWith('\n\n')).toBe(true)
    expect(lines).toHaveLength(5)
    expect(m.as(sseSingleNamed).toString().split('\n')[0]).toBe('event: greeting')
    expect(m.as(sseData)).toBe('data: ' + m.json + '\n\n')
  })

  it("keeps the protocol's own event types for messages named like them", () => {
    for (const name of ['message', 'subscribed', 'presence', 'error']) {
      expect(sseType(EncodedMessage.of({ ...message, name }), true)).toBe('message')
    }
    const { name: _name, ...unnamed } = message
    expect(sseType(EncodedMessage.of(unnamed), true)).toBe('message')
    expect(sseType(EncodedMessage.of({ ...message, name: 'bad\nname' }), true)).toBe('message')
    expect(sseType(EncodedMessage.of(message), false)).toBe('message')
  })

  it('encodes presence once as event: presence', () => {
    const p = EncodedPresence.of({ channel: 'presence-r', action: 'join', member: { clientId: 'u1' } })
    expect(p.as(sseSingle)).toBe(p.as(sseSingle))
    expect(p.as(sseSingle).toString()).toBe('event: presence\ndata: {"channel":"presence-r","action":"join","member":{"clientId":"u1"}}\n\n')
  })
})

describe('stream options', () => {
  it('reads defaults and overrides, and names a bad variable', () => {
    expect(streamOptionsFromEnv({})).toMatchObject({ pingMs: 15_000, maxStreamMs: 3_600_000, retryMs: 1500 })
    expect(streamOptionsFromEnv({ HERALD_SSE_MAX_STREAM_SECONDS: '0', HERALD_SSE_PING_SECONDS: '0.5' })).toMatchObject({ pingMs: 500, maxStreamMs: 0 })
    expect(() => streamOptionsFromEnv({ HERALD_SSE_PING_SECONDS: '25' })).toThrow(/HERALD_SSE_PING_SECONDS/)
  })
})
