import { describe, expect, it } from 'vitest'
import { isPublishBody } from './publish-body.js'
import { PublishBodySchema } from './schemas.js'

const many = (n: number, item: unknown) => Array.from({ length: n }, () => item)

/** Bodies on both sides of every rule of PublishBodySchema. */
const bodies: unknown[] = [
  { channel: 'c', data: 1 },
  { channel: 'c', data: { a: [1, 2] }, name: 'n', id: 'i' },
  { channel: 'c' },
  { channel: '', data: null },
  { channel: 'c', data: 1, extra: true },
  { channel: 1, data: 1 },
  { channel: 'c', name: 5, data: 1 },
  { channel: 'c', name: null, data: 1 },
  { channel: 'c', id: 7, data: 1 },
  { channels: ['a', 'b'], data: 1 },
  { channels: ['a'], data: 1, name: 'n', id: 'x' },
  { channels: ['a'] },
  { messages: [{ channel: 'a' }] },
  { channels: [], data: 1 },
  { channels: many(100, 'a'), data: 1 },
  { channels: many(101, 'a'), data: 1 },
  { channels: ['a', 2], data: 1 },
  { channels: 'a', data: 1 },
  { channels: ['a'], channel: 'b', data: 1 },
  { channels: ['a'], data: 1, messages: [] },
  { messages: [{ channel: 'a', data: 1 }] },
  {
    messages: [
      { channel: 'a', data: 1, name: 'n', id: 'i' },
      { channel: 'b', data: 2 },
    ],
  },
  { messages: [] },
  { messages: many(100, { channel: 'a', data: 1 }) },
  { messages: many(101, { channel: 'a', data: 1 }) },
  { messages: [{ channel: 'a', data: 1, extra: 1 }] },
  { messages: [{ data: 1 }] },
  { messages: [null] },
  { messages: {} },
  { messages: [{ channel: 'a', data: 1 }], data: 1 },
  { messages: [{ channel: 'a', data: 1 }], channel: 'x' },
  {},
  [],
  [{ channel: 'a', data: 1 }],
  null,
  'text',
  42,
  true,
  JSON.parse('{"channel":"c","data":1,"__proto__":{"x":1}}'),
  JSON.parse('{"messages":[{"channel":"c","data":1,"__proto__":null}]}'),
]

describe('isPublishBody', () => {
  it.each(bodies.map((b) => [JSON.stringify(b), b]))('never accepts what the schema refuses: %s', (_, body) => {
    const schema = PublishBodySchema.safeParse(body)
    if (isPublishBody(body)) {
      expect(schema.success).toBe(true)
      // Accepted unchanged: the route may use the body as the schema would return it.
      expect(schema.data).toEqual(body)
    }
  })

  it('accepts the common bodies itself (the fast path is taken)', () => {
    for (const body of [bodies[0], bodies[1], bodies[3]]) expect(isPublishBody(body)).toBe(true)
    expect(isPublishBody({ channels: ['a', 'b'], data: 1 })).toBe(true)
    expect(
      isPublishBody({
        messages: [
          { channel: 'a', data: 1 },
          { channel: 'b', data: 2, name: 'n' },
        ],
      }),
    ).toBe(true)
    expect(isPublishBody({ messages: many(100, { channel: 'a', data: 1 }) })).toBe(true)
  })
})
