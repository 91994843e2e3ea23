import { describe, expect, it } from 'vitest'
import { DEFAULT_SETTINGS } from '../../apps/settings.js'
import type { App } from '../../apps/types.js'
import { compileCapability } from '../../auth/capability.js'
import type { Identity } from '../../auth/identity.js'
import { MemoryBroker } from '../../engine/broker-memory.js'
import { Hub } from '../../engine/hub.js'
import { AppRateLimiter } from '../../engine/limits.js'
import { Publisher } from '../../engine/publisher.js'
import { HeraldError } from '../../errors.js'
import { checkEvent } from './events.js'

const app: App = { id: 'app_a', name: 'a', settings: { ...DEFAULT_SETTINGS, maxMessageBytes: 100 }, createdAt: '' }
const broker = new MemoryBroker()
const publisher = new Publisher(broker, new Hub(broker), new AppRateLimiter())
const identity = (cap: Record<string, string[]> = { '*': ['publish'] }): Identity => ({
  kind: 'basic',
  appId: app.id,
  keyId: 'key_a',
  capability: compileCapability(cap as never),
})
const check = (body: unknown, opts: { batch?: boolean; where?: string; cap?: Record<string, string[]> } = {}) =>
  checkEvent(app, (raw) => publisher.validate(app, identity(opts.cap), raw), body, { batch: opts.batch ?? false, where: opts.where })

function codeOf(fn: () => unknown): string {
  try {
    fn()
  } catch (err) {
    if (err instanceof HeraldError) return `${err.status} ${err.message}`
    throw err
  }
  return 'accepted'
}

describe('checkEvent', () => {
  it('turns one event into one engine input per channel, data mapped, socket_id as exclude, Herald names for user channels', () => {
    const e = check({ name: 'greet', data: '{"a":1}', channels: ['news', '#server-to-user-u1'], socket_id: '1.2', info: 'user_count,subscription_count' })
    expect(e.channels).toEqual(['news', '#server-to-user-u1'])
    expect(e.inputs).toEqual([
      { channel: 'news', name: 'greet', data: { a: 1 }, dataJson: '{"a":1}', exclude: '1.2' },
      { channel: 'private-server-to-user:u1', name: 'greet', data: { a: 1 }, dataJson: '{"a":1}', exclude: '1.2' },
    ])
    expect(e.info).toEqual(['user_count', 'subscription_count'])
    expect(check({ name: 'n', data: 'plain', channel: 'c' }).inputs).toEqual([{ channel: 'c', name: 'n', data: 'plain', dataJson: '"plain"' }])
  })

  it("refuses with Pusher's status: 400 malformed, 403 outside the key's capability, 413 over maxMessageBytes", () => {
    expect(codeOf(() => check('nope'))).toMatch(/^400 /)
    expect(codeOf(() => check({ data: '{}', channel: 'c' }))).toBe('400 name is required')
    expect(codeOf(() => check({ name: 'x'.repeat(201), data: '{}', channel: 'c' }))).toMatch(/^400 name must be/)
    expect(codeOf(() => check({ name: 'pusher_internal:member_added', data: '{}', channel: 'c' }))).toMatch(/^400 .*reserved/)
    expect(codeOf(() => check({ name: 'e', data: 5, channel: 'c' }))).toMatch(/^400 data must be a string/)
    expect(codeOf(() => check({ name: 'e', data: '{}', channel: 'c', channels: ['d'] }))).toMatch(/^400 give channel or channels/)
    expect(codeOf(() => check({ name: 'e', data: '{}', channels: [] }))).toMatch(/^400 channels must be a non-empty/)
    expect(codeOf(() => check({ name: 'e', data: '{}', channels: Array.from({ length: 101 }, (_, i) => `c${i}`) }))).toMatch(/^400 .*at most 100 channels/)
    expect(codeOf(() => check({ name: 'e', data: '{}', channels: Array.from({ length: 100 }, (_, i) => `c${i}`) }))).toBe('accepted')
    expect(codeOf(() => check({ name: 'e', data: '{}', channel: 'a,b' }))).toMatch(/^400 invalid channel name/)
    expect(codeOf(() => check({ name: 'e', data: '{}', channel: 'c', socket_id: 'x.y' }))).toMatch(/^400 socket_id/)
    expect(codeOf(() => check({ name: 'e', data: '{}', channel: 'c', info: 'colour' }))).toMatch(/^400 info may ask/)
    expect(codeOf(() => check({ name: 'e', data: `[${'['.repeat(70)}${']'.repeat(70)}]`, channel: 'c' }))).toMatch(/^400 data is nested deeper/)
    expect(codeOf(() => check({ name: 'e', data: '{}', channels: ['chat-1', 'other'] }, { cap: { 'chat-*': ['publish'] } }))).toMatch(/^403 /)
    expect(codeOf(() => check({ name: 'e', data: 'x'.repeat(101), channel: 'c' }))).toMatch(/^413 /)
    // the Pusher text counts: JSON padded with spaces is small as a Herald value, but not as sent
    expect(codeOf(() => check({ name: 'e', data: `{"a":${' '.repeat(100)}1}`, channel: 'c' }))).toMatch(/^413 data is 107 bytes/)
    // the Herald value counts too: a 99-byte string is 101 bytes as JSON
    expect(codeOf(() => check({ name: 'e', data: 'x'.repeat(99), channel: 'c' }))).toMatch(/^413 /)
  })

  it('takes channel only in a batch item and names the item in its errors', () => {
    expect(codeOf(() => check({ name: 'e', data: '{}', channels: ['c'] }, { batch: true, where: 'batch[3]' }))).toBe('400 batch[3]: channel is required')
    expect(codeOf(() => check({ name: 'e', data: 'x'.repeat(200), channel: 'c' }, { batch: true, where: 'batch[1]' }))).toMatch(/^413 batch\[1\]: /)
    expect(codeOf(() => check({ name: 'e', data: '{}', channel: 'c' }, { batch: true, where: 'batch[0]', cap: { 'x-*': ['publish'] } }))).toMatch(
      /^403 batch\[0\]: /,
    )
  })
})
