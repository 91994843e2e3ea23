import { CloseCodes, PusherCloseCodes } from '@herald/protocol'
import { afterEach, describe, expect, it } from 'vitest'
import type { AppRegistry, CachedKey } from '../../apps/registry.js'
import { DEFAULT_SETTINGS } from '../../apps/settings.js'
import type { App } from '../../apps/types.js'
import { compileCapability } from '../../auth/capability.js'
import type { NodeContext } from '../../context.js'
import { MemoryBroker } from '../../engine/broker-memory.js'
import { MemoryClusterState } from '../../engine/cluster-state-memory.js'
import { Engine } from '../../engine/engine.js'
import { MemoryPresence } from '../../engine/presence-memory.js'
import type { ClientEventReport } from '../../engine/session-events.js'
import { createLogger } from '../../logger.js'
import { Metrics } from '../../metrics.js'
import { PusherConnection, type PusherOutput } from './connection.js'
import { pusherTextFormat } from './format.js'
import { signChannel, signUser } from './signature.js'

const SECRET = 'the-secret'
const app: App = { id: 'app_p', name: 't', settings: { ...DEFAULT_SETTINGS, clientEvents: true }, createdAt: '' }
const key: CachedKey = {
  key: { appId: app.id, keyId: 'key_p', secret: SECRET, capability: { '*': ['subscribe', 'publish', 'presence', 'history'] }, createdAt: '' },
  secretBytes: new TextEncoder().encode(SECRET),
  capability: compileCapability({ '*': ['subscribe', 'publish', 'presence', 'history'] }),
}

/** A transport that keeps the Pusher events it is given, as parsed objects. */
class FakeOutput implements PusherOutput<string> {
  readonly kind = 'pusher-test'
  readonly format = pusherTextFormat
  readonly events: Array<{ event: string; channel?: string; data?: unknown; user_id?: string }> = []
  closed: { code: number; reason: string; discard: boolean } | undefined
  frame(text: string): string {
    return text
  }
  write(chunk: string): number {
    const e = JSON.parse(chunk)
    if (typeof e.data === 'string') {
      try {
        e.data = JSON.parse(e.data)
      } catch {}
    }
    this.events.push(e)
    return chunk.length
  }
  bufferedBytes(): number {
    return 0
  }
  close(code: number, reason: string, discard: boolean): void {
    this.closed = { code, reason, discard }
  }
  named(event: string) {
    return this.events.filter((e) => e.event === event)
  }
}

const engines: Engine[] = []
afterEach(async () => {
  for (const e of engines.splice(0)) {
    e.closeAll(CloseCodes.goingAway, 'test over')
    await e.close()
  }
})

async function node(settings: Partial<App['settings']> = {}) {
  const current = { ...app, settings: { ...app.settings, ...settings } }
  const registry = {
    app: async (id: string) => (id === app.id ? current : null),
    activeKey: async (_a: string, k: string) => (k === key.key.keyId ? key : null),
    appIdOfKey: async (k: string) => (k === key.key.keyId ? app.id : null),
  } as unknown as AppRegistry
  const engine = new Engine({
    config: { sendBufferBytes: 1 << 20, maxSubscriptionsPerConnection: 10 },
    logger: createLogger('silent'),
    metrics: new Metrics(),
    registry,
    broker: new MemoryBroker(),
    presence: new MemoryPresence(),
    clusterState: new MemoryClusterState(),
  })
  await engine.start()
  engines.push(engine)
  const ctx = { engine, logger: createLogger('silent'), metrics: engine.metrics, config: { maxFrameBytes: 65_536 } } as unknown as NodeContext
  let n = 0
  const connect = () => {
    const out = new FakeOutput()
    const conn = new PusherConnection(ctx, out, current, `${++n}.${n}`, key.key.keyId, key.capability)
    conn.open(current, 25)
    return { out, conn, send: (frame: unknown) => conn.receive(JSON.stringify(frame)) }
  }
  return { engine, connect, app: current }
}

const until = async (cond: () => boolean) => {
  for (let i = 0; i < 500 && !cond(); i++) await new Promise((r) => setTimeout(r, 2))
  expect(cond()).toBe(true)
}

const presenceAuth = (socketId: string, channel: string, userId: string) => {
  const channelData = JSON.stringify({ user_id: userId, user_info: { name: userId } })
  return { channel, auth: signChannel(key.key.keyId, SECRET, socketId, channel, channelData), channel_data: channelData }
}

describe('PusherConnection', () => {
  it('opens with connection_established and answers pings', async () => {
    const { connect } = await node()
    const a = connect()
    expect(a.out.events[0]).toEqual({ event: 'pusher:connection_established', data: { socket_id: '1.1', activity_timeout: 25 } })
    a.send({ event: 'pusher:ping', data: {} })
    await until(() => a.out.named('pusher:pong').length === 1)
  })

  it('sends the member list with the socket itself, never tells it about its own user, and tells others once', async () => {
    const { connect } = await node()
    const a = connect()
    const b = connect()
    a.send({ event: 'pusher:subscribe', data: presenceAuth('1.1', 'presence-r', 'ann') })
    await until(() => a.out.named('pusher_internal:subscription_succeeded').length === 1)
    expect(a.out.named('pusher_internal:subscription_succeeded')[0]!.data).toEqual({ presence: { ids: ['ann'], hash: { ann: { name: 'ann' } }, count: 1 } })
    b.send({ event: 'pusher:subscribe', data: presenceAuth('2.2', 'presence-r', 'bob') })
    await until(() => a.out.named('pusher_internal:member_added').length === 1)
    expect(a.out.named('pusher_internal:member_added')[0]!.data).toEqual({ user_id: 'bob', user_info: { name: 'bob' } })
    expect(b.out.named('pusher_internal:member_added')).toEqual([])
    expect(a.out.named('pusher_internal:member_removed')).toEqual([])
  })

  it('refuses a signature for another socket with subscription_error 401', async () => {
    const { connect } = await node()
    const a = connect()
    a.send({ event: 'pusher:subscribe', data: { channel: 'private-x', auth: signChannel(key.key.keyId, SECRET, '9.9', 'private-x') } })
    await until(() => a.out.named('pusher:subscription_error').length === 1)
    expect(a.out.named('pusher:subscription_error')[0]).toMatchObject({ channel: 'private-x', data: { status: 401 } })
  })

  it('gives a cache channel its last event, or cache_miss (told to listeners)', async () => {
    const { connect, engine, app: current } = await node()
    const misses: string[] = []
    engine.listen({ cacheMiss: (_app, channel) => misses.push(channel) })
    await engine.publish(
      current,
      [
        { channel: 'cache-a', name: 'price', data: 1 },
        { channel: 'cache-a', name: 'price', data: 2 },
      ],
      'test',
    )
    const a = connect()
    a.send({ event: 'pusher:subscribe', data: { channel: 'cache-a' } })
    a.send({ event: 'pusher:subscribe', data: { channel: 'cache-empty' } })
    await until(() => a.out.named('pusher:cache_miss').length === 1)
    const names = a.out.events.map((e) => `${e.event} ${e.channel ?? ''} ${e.data === undefined ? '' : JSON.stringify(e.data)}`)
    expect(names.slice(1)).toEqual([
      'pusher_internal:subscription_succeeded cache-a {}',
      'price cache-a 2',
      'pusher_internal:subscription_succeeded cache-empty {}',
      'pusher:cache_miss cache-empty ',
    ])
    expect(misses).toEqual(['cache-empty'])
  })

  it('publishes client events to the others with user_id, reports them, and never to the sender', async () => {
    const { connect, engine } = await node()
    const reports: ClientEventReport[] = []
    engine.listen({ clientEvent: (r) => reports.push(r) })
    const a = connect()
    const b = connect()
    a.send({ event: 'pusher:subscribe', data: presenceAuth('1.1', 'presence-c', 'ann') })
    b.send({ event: 'pusher:subscribe', data: presenceAuth('2.2', 'presence-c', 'bob') })
    await until(() => a.out.named('pusher_internal:subscription_succeeded').length === 1 && b.out.named('pusher_internal:subscription_succeeded').length === 1)
    a.send({ event: 'client-wave', channel: 'presence-c', data: { hi: 1 } })
    b.send({ event: 'client-wave', channel: 'presence-c', data: { hi: 2 } })
    await until(() => a.out.named('client-wave').length === 1 && b.out.named('client-wave').length === 1)
    expect(b.out.named('client-wave')[0]).toEqual({ event: 'client-wave', channel: 'presence-c', data: { hi: 1 }, user_id: 'ann' })
    expect(a.out.named('client-wave')[0]).toEqual({ event: 'client-wave', channel: 'presence-c', data: { hi: 2 }, user_id: 'bob' })
    expect(reports).toEqual([
      { appId: app.id, channel: 'presence-c', event: 'client-wave', data: { hi: 1 }, socketId: '1.1', userId: 'ann' },
      { appId: app.id, channel: 'presence-c', event: 'client-wave', data: { hi: 2 }, socketId: '2.2', userId: 'bob' },
    ])
  })

  it('refuses client events with pusher:error 4301 when the setting is off', async () => {
    const { connect } = await node({ clientEvents: false })
    const a = connect()
    a.send({ event: 'pusher:subscribe', data: { channel: 'private-x', auth: signChannel(key.key.keyId, SECRET, '1.1', 'private-x') } })
    a.send({ event: 'client-x', channel: 'private-x', data: 1 })
    await until(() => a.out.named('pusher:error').length === 1)
    expect(a.out.named('pusher:error')[0]!.data).toMatchObject({ code: 4301 })
    expect(a.out.closed).toBeUndefined()
  })

  it('signs a user in (the session gets its user id) and closes a bad sign-in with 4009', async () => {
    const { connect, engine } = await node()
    const a = connect()
    const userData = JSON.stringify({ id: 'u1' })
    a.send({ event: 'pusher:signin', data: { auth: signUser(key.key.keyId, SECRET, '1.1', userData), user_data: userData } })
    await until(() => a.out.named('pusher:signin_success').length === 1)
    expect(engine.sessions(app.id, (s) => s.userId === 'u1')).toHaveLength(1)
    const b = connect()
    b.send({ event: 'pusher:signin', data: { auth: signUser(key.key.keyId, SECRET, '1.1', userData), user_data: userData } })
    await until(() => b.out.closed !== undefined)
    expect(b.out.closed).toMatchObject({ code: PusherCloseCodes.unauthorized })
  })

  it('maps the engine ends to Pusher close codes: shutdown reconnects, a slow consumer is cut without a backlog', async () => {
    const { connect } = await node()
    const a = connect()
    a.conn.session.close(CloseCodes.goingAway, 'server going away')
    expect(a.out.closed).toEqual({ code: PusherCloseCodes.reconnect, reason: 'server going away', discard: false })
    expect(a.out.named('pusher:error').at(-1)!.data).toEqual({ code: 4200, message: 'server going away' })
    const b = connect()
    b.conn.session.close(CloseCodes.rateLimited, 'too slow to keep up')
    expect(b.out.closed).toEqual({ code: PusherCloseCodes.overCapacity, reason: 'too slow to keep up', discard: true })
    expect(b.out.named('pusher:error')).toEqual([])
  })
})
