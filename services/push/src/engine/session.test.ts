import { CloseCodes, type Message, type PresenceEvent } from '@herald/protocol'
import { afterEach, describe, expect, it } from 'vitest'
import type { AppRegistry } from '../apps/registry.js'
import { DEFAULT_SETTINGS } from '../apps/settings.js'
import type { App } from '../apps/types.js'
import { compileCapability } from '../auth/capability.js'
import type { Identity } from '../auth/identity.js'
import { createLogger } from '../logger.js'
import { Metrics } from '../metrics.js'
import { MemoryBroker } from './broker-memory.js'
import { MemoryClusterState } from './cluster-state-memory.js'
import type { EncodedMessage, EncodedPresence } from './encoded.js'
import { Engine } from './engine.js'
import { defineFormat } from './format.js'
import { MemoryPresence } from './presence-memory.js'
import type { ClientSession } from './session.js'
import type { EndError, Wire } from './wire.js'

const app: App = { id: 'app_session', name: 't', settings: { ...DEFAULT_SETTINGS, maxConnections: 2 }, createdAt: '' }
const token = (clientId?: string): Identity => ({
  kind: 'token',
  appId: app.id,
  keyId: 'k1',
  ...(clientId ? { clientId } : {}),
  capability: compileCapability({ '*': ['subscribe', 'publish', 'presence', 'history'] }),
  exp: Math.floor(Date.now() / 1000) + 3600,
})
const anonymous: Identity = { kind: 'anonymous', appId: app.id }

/** A format that counts how often it encodes, to check once-per-message encoding. */
let encodes = 0
const testFormat = defineFormat<Buffer>('test', {
  message: (m) => {
    encodes++
    return Buffer.from(m.json)
  },
  presence: (p) => Buffer.from(p.json),
})

/** A wire that keeps what it is given; `buffered` stands for the socket's unsent bytes. */
class FakeWire implements Wire {
  readonly kind = 'fake'
  buffered = 0
  readonly frames: Buffer[] = []
  readonly messages: Message[] = []
  readonly presenceEvents: PresenceEvent[] = []
  ended: { code: number; reason: string; error?: EndError } | undefined
  session!: ClientSession

  bufferedBytes(): number {
    return this.buffered
  }
  message(_channel: string, m: EncodedMessage): number {
    const frame = m.as(testFormat)
    this.frames.push(frame)
    this.messages.push(m.message)
    return frame.length
  }
  presence(_channel: string, p: EncodedPresence): number {
    this.presenceEvents.push(p.event)
    return p.as(testFormat).length
  }
  end(code: number, reason: string, error?: EndError): void {
    this.ended = error ? { code, reason, error } : { code, reason }
    this.session.closed()
  }
}

const engines: Engine[] = []
afterEach(async () => {
  for (const e of engines.splice(0)) {
    e.closeAll(CloseCodes.goingAway, 'test over')
    await e.close()
  }
})

async function newEngine(sendBufferBytes = 1 << 20): Promise<Engine> {
  const broker = new MemoryBroker()
  const registry = { app: async (id: string) => (id === app.id ? app : null), activeKey: async () => null } as unknown as AppRegistry
  const engine = new Engine({
    config: { sendBufferBytes, maxSubscriptionsPerConnection: 10 },
    logger: createLogger('silent'),
    metrics: new Metrics(),
    registry,
    broker,
    presence: new MemoryPresence(),
    clusterState: new MemoryClusterState(),
  })
  await engine.start()
  engines.push(engine)
  return engine
}

function open(engine: Engine, identity: Identity, init: { id?: string; expires?: boolean } = {}): FakeWire {
  const wire = new FakeWire()
  wire.session = engine.open({ app, identity, wire, ...init })
  return wire
}

const publish = (engine: Engine, channel: string, data: unknown, exclude?: string) =>
  engine.publish(app, [{ channel, data, ...(exclude ? { exclude } : {}) }], 'test')

describe('ClientSession', () => {
  it('admits up to maxConnections, registers in the hub and tells listeners, whatever the wire', async () => {
    const engine = await newEngine()
    const events: string[] = []
    engine.listen({ opened: (s) => events.push(`opened ${s.id}`), closed: (s, code) => events.push(`closed ${s.id} ${code}`) })
    const a = open(engine, anonymous, { id: '123.456' })
    open(engine, anonymous)
    expect(() => open(engine, anonymous)).toThrow(expect.objectContaining({ code: 'limit_exceeded', retryAfter: 5 }))
    expect(engine.hub.sessionCount(app.id)).toBe(2)
    expect(engine.sessions(app.id, (s) => s.id === '123.456')).toEqual([a.session])
    a.session.close(CloseCodes.unauthorized, 'key revoked')
    expect(a.ended).toEqual({ code: CloseCodes.unauthorized, reason: 'key revoked' })
    expect(engine.hub.sessionCount(app.id)).toBe(1)
    expect(events).toEqual(['opened 123.456', expect.stringMatching(/^opened c_/), `closed 123.456 ${CloseCodes.unauthorized}`])
  })

  it('finds and closes sessions by user id through the hub', async () => {
    const engine = await newEngine()
    const a = open(engine, anonymous)
    const b = open(engine, anonymous)
    a.session.userId = 'u1'
    expect(engine.closeSessions(app.id, CloseCodes.forbidden, 'user terminated', (s) => s.userId === 'u1')).toBe(1)
    expect(a.ended?.code).toBe(CloseCodes.forbidden)
    expect(b.ended).toBeUndefined()
  })

  it('delivers one encoding per message to every subscriber, except the excluded session', async () => {
    const engine = await newEngine()
    const wires = [open(engine, anonymous), open(engine, anonymous)]
    const seen: string[] = []
    engine.listen({
      occupied: (_a, ch) => seen.push(`occupied ${ch}`),
      vacated: (_a, ch) => seen.push(`vacated ${ch}`),
      subscribed: (_s, ch) => seen.push(`subscribed ${ch}`),
    })
    for (const w of wires) await w.session.subscribe('news')
    encodes = 0
    await publish(engine, 'news', 1)
    await publish(engine, 'news', 2, wires[0]!.session.id)
    expect(encodes).toBe(2)
    expect(wires[0]!.frames[0]).toBe(wires[1]!.frames[0])
    expect(wires[0]!.messages.map((m) => m.data)).toEqual([1])
    expect(wires[1]!.messages.map((m) => m.data)).toEqual([1, 2])
    expect(engine.hub.localState()[app.id]!.delivered).toBe(3)
    await wires[0]!.session.unsubscribe('news')
    wires[1]!.session.close(CloseCodes.normal, 'bye')
    expect(seen).toEqual(['occupied news', 'subscribed news', 'subscribed news', 'vacated news'])
  })

  it('publishes as a wire-authorized client event that is not echoed to its sender', async () => {
    const engine = await newEngine()
    const sender = open(engine, anonymous)
    const other = open(engine, anonymous)
    for (const w of [sender, other]) await w.session.subscribe('private-chat', { authorized: true })
    await expect(sender.session.publish({ channel: 'private-chat', name: 'client-typing', data: 1 })).rejects.toMatchObject({ code: 'forbidden' })
    const { message } = await sender.session.publish({ channel: 'private-chat', name: 'client-typing', data: 2 }, { authorized: true, excludeSelf: true })
    expect(message).toMatchObject({ channel: 'private-chat', name: 'client-typing', data: 2, seq: 1 })
    expect(message).not.toHaveProperty('exclude')
    expect(other.messages).toEqual([message])
    expect(sender.messages).toEqual([])
    await expect(sender.session.publish({ channel: 'bad channel!', data: 3 }, { authorized: true })).rejects.toMatchObject({ code: 'bad_request' })
  })

  it('lets a wire that authorized a channel itself subscribe, with a presence member of its own', async () => {
    const engine = await newEngine()
    const watcher = open(engine, token('watcher'))
    await watcher.session.subscribe('presence-room')
    const a = open(engine, anonymous, { expires: false })
    await expect(a.session.subscribe('presence-room')).rejects.toMatchObject({ code: 'forbidden' })
    const joined: string[] = []
    engine.listen({ joined: (_s, ch, m) => joined.push(`${ch} ${m.clientId}`), left: (_s, ch, m) => joined.push(`left ${ch} ${m.clientId}`) })
    await a.session.subscribe('presence-room', { authorized: true, member: { clientId: 'u7', info: { name: 'Ann' } } })
    await expect(a.session.subscribe('bad channel!', { authorized: true })).rejects.toMatchObject({ code: 'bad_request' })
    expect(await engine.members(app.id, 'presence-room')).toContainEqual({ clientId: 'u7', info: { name: 'Ann' } })
    expect(watcher.presenceEvents).toContainEqual({ channel: 'presence-room', action: 'join', member: { clientId: 'u7', info: { name: 'Ann' } } })
    a.session.close(CloseCodes.normal, 'bye')
    await expect.poll(() => watcher.presenceEvents.some((e) => e.action === 'leave' && e.member.clientId === 'u7')).toBe(true)
    expect(joined).toEqual(['presence-room u7', 'left presence-room u7'])
  })

  it('ends a session whose earlier bytes are still unsent past the bound as a slow consumer, one mechanism for every wire', async () => {
    const engine = await newEngine(16_384)
    const slow = open(engine, anonymous)
    const fine = open(engine, anonymous)
    await slow.session.subscribe('firehose')
    await fine.session.subscribe('firehose')
    // bytes of earlier turns still queued past the bound
    slow.buffered = 20_000
    await publish(engine, 'firehose', 'x'.repeat(100))
    expect(slow.ended).toEqual({ code: CloseCodes.rateLimited, reason: 'too slow to keep up' })
    expect(fine.ended).toBeUndefined()
    expect(fine.messages).toHaveLength(1)
    // a burst within one turn is not a slow consumer (the turn allowance)
    fine.buffered = 20_000 + 100
    await engine.publish(app, [{ channel: 'firehose', data: 'y'.repeat(20_000) }], 'test')
    expect(fine.ended).toBeUndefined()
  })

  it('refuses a refreshed token of another sub, and never expires a session opened with expires: false', async () => {
    const engine = await newEngine()
    const w = open(engine, token('u1'))
    expect(() => w.session.refresh(token('u2'))).toThrow(expect.objectContaining({ code: 'forbidden' }))
    w.session.refresh(token('u1'))
    w.session.close(CloseCodes.normal, 'done')
    const never = open(engine, { ...token('u3'), exp: 0 } as Identity, { expires: false })
    const expiring = open(engine, { ...token('u4'), exp: 0 } as Identity)
    await expect
      .poll(() => expiring.ended)
      .toEqual({
        code: CloseCodes.unauthorized,
        reason: 'token expired',
        error: { code: 'token_expired', message: 'token expired; reconnect with a fresh token' },
      })
    expect(never.ended).toBeUndefined()
  })
})
