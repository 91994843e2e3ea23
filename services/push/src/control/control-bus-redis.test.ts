import { randomBytes } from 'node:crypto'
import { Redis } from 'ioredis'
import { afterEach, describe, expect, it } from 'vitest'
import type { ControlEvent } from './control-bus.js'
import { CONTROL_CHANNEL, RedisControlBus, type RedisControlBusOptions } from './control-bus-redis.js'

const URL = process.env.HERALD_TEST_REDIS_URL ?? 'redis://127.0.0.1:6379'
const open: { close(): Promise<unknown> | undefined }[] = []
afterEach(async () => {
  for (const c of open.splice(0)) await c.close()
})

/** Polls until `check` passes (throws otherwise after a generous timeout). */
async function waitFor(check: () => void, timeoutMs = 10_000): Promise<void> {
  const deadline = Date.now() + timeoutMs
  for (;;) {
    try {
      return check()
    } catch (err) {
      if (Date.now() > deadline) throw err
      await new Promise((r) => setTimeout(r, 10))
    }
  }
}

function testChannel(): string {
  return `${CONTROL_CHANNEL}:test:${randomBytes(6).toString('hex')}`
}

async function startBus(channel: string, extra: RedisControlBusOptions = {}) {
  const events: ControlEvent[] = []
  const errors: Error[] = []
  const bus = new RedisControlBus({ url: URL, channel, onError: (e) => errors.push(e), ...extra })
  open.push(bus)
  await bus.start((e) => events.push(e))
  return { bus, events, errors }
}

function rawClient(): Redis {
  const r = new Redis(URL)
  open.push({ close: () => void r.disconnect() })
  return r
}

describe('RedisControlBus', () => {
  it('uses herald:control by default and gives each node its own id', () => {
    expect(CONTROL_CHANNEL).toBe('herald:control')
    const a = new RedisControlBus({ url: URL })
    const b = new RedisControlBus({ url: URL })
    open.push(a, b)
    expect(a.nodeId).not.toBe(b.nodeId)
  })

  it('delivers every event once to every node, the emitter included', async () => {
    const channel = testChannel()
    const a = await startBus(channel)
    const b = await startBus(channel)
    const fromA: ControlEvent = { type: 'key.revoked', appId: 'app_1', keyId: 'key_1' }
    const fromB: ControlEvent = { type: 'app.updated', appId: 'app_2' }

    await a.bus.emit(fromA)
    expect(a.events).toEqual([fromA]) // local delivery does not wait for Redis
    await waitFor(() => expect(b.events).toEqual([fromA]))

    await b.bus.emit(fromB)
    expect(b.events).toEqual([fromA, fromB])
    // Redis delivers a channel's messages in publish order, so once A sees B's event, an echo of
    // A's own event would already have arrived: A must still hold exactly one copy of it.
    await waitFor(() => expect(a.events).toEqual([fromA, fromB]))

    await a.bus.emit({ type: 'app.deleted', appId: 'app_3' })
    await a.bus.emit({ type: 'key.created', appId: 'app_4', keyId: 'key_4' })
    await waitFor(() => expect(b.events).toHaveLength(4))
    expect(b.events.slice(2)).toEqual([
      { type: 'app.deleted', appId: 'app_3' },
      { type: 'key.created', appId: 'app_4', keyId: 'key_4' },
    ])
    expect(a.events).toEqual(b.events)
    expect(a.errors).toEqual([])
    expect(b.errors).toEqual([])
  })

  it('ignores and reports messages that are not control events', async () => {
    const channel = testChannel()
    const a = await startBus(channel)
    const raw = rawClient()
    await raw.publish(channel, 'not json')
    await raw.publish(channel, JSON.stringify({ node: 'other', event: { type: 'app.exploded', appId: 'x' } }))
    await raw.publish(channel, JSON.stringify({ node: 'other', event: { type: 'key.revoked', appId: 'x' } }))
    await raw.publish(channel, JSON.stringify({ node: 'other', event: { type: 'app.updated', appId: 'app_ok' } }))
    await waitFor(() => expect(a.events).toEqual([{ type: 'app.updated', appId: 'app_ok' }]))
    expect(a.errors).toHaveLength(3)
    expect(a.errors[0]!.message).toContain('malformed control message')
  })

  it('keeps buses on other channels apart', async () => {
    const shared = testChannel()
    const a = await startBus(testChannel())
    const b = await startBus(shared)
    const c = await startBus(shared)
    await a.bus.emit({ type: 'app.updated', appId: 'only-a' })
    await b.bus.emit({ type: 'app.updated', appId: 'b-and-c' })
    await waitFor(() => expect(c.events).toEqual([{ type: 'app.updated', appId: 'b-and-c' }]))
    expect(b.events).toEqual([{ type: 'app.updated', appId: 'b-and-c' }])
    expect(a.events).toEqual([{ type: 'app.updated', appId: 'only-a' }])
  })

  it('subscribes again after losing its connection, and says so', async () => {
    const channel = testChannel()
    const name = 'herald-test-' + randomBytes(4).toString('hex')
    let resubscribed = 0
    const a = await startBus(channel, {
      redis: { connectionName: name, retryStrategy: () => 50 },
      onResubscribed: () => resubscribed++,
    })
    const b = await startBus(channel)
    const raw = rawClient()
    // Kill only our own subscriber connection (found by its name), never anyone else's.
    const list = (await raw.client('LIST')) as string
    const ids = list
      .split('\n')
      .filter((line) => line.includes(` name=${name} `) && / sub=[1-9]/.test(line))
      .map((line) => /(?:^| )id=(\d+)/.exec(line)![1]!)
    expect(ids).toHaveLength(1)
    await raw.client('KILL', 'ID', ids[0]!)
    await waitFor(() => expect(resubscribed).toBe(1))
    await b.bus.emit({ type: 'app.updated', appId: 'after-reconnect' })
    await waitFor(() => expect(a.events).toEqual([{ type: 'app.updated', appId: 'after-reconnect' }]))
  })

  it('fails emit at once when Redis cannot be reached, instead of queueing it for minutes', async () => {
    // A port nobody listens on: take a free one and close it again.
    const { createServer } = await import('node:net')
    const port = await new Promise<number>((resolve) => {
      const srv = createServer().listen(0, '127.0.0.1', () => {
        const p = (srv.address() as { port: number }).port
        srv.close(() => resolve(p))
      })
    })
    const errors: Error[] = []
    const bus = new RedisControlBus({ url: `redis://127.0.0.1:${port}`, channel: testChannel(), onError: (e) => errors.push(e) })
    open.push(bus)
    await expect(bus.start(() => {})).rejects.toThrow()
    const outcome = await Promise.race([
      bus.emit({ type: 'key.revoked', appId: 'app_1', keyId: 'key_1' }).then(
        () => 'published',
        () => 'rejected',
      ),
      new Promise((resolve) => setTimeout(() => resolve('still pending'), 3000)),
    ])
    expect(outcome).toBe('rejected')
  })

  it('stops delivering once closed, and closes twice without harm', async () => {
    const channel = testChannel()
    const a = await startBus(channel)
    const b = await startBus(channel)
    await a.bus.close()
    await a.bus.close()
    await b.bus.emit({ type: 'app.updated', appId: 'late' })
    const marker = await startBus(channel)
    await b.bus.emit({ type: 'app.updated', appId: 'marker' })
    await waitFor(() => expect(marker.events).toEqual([{ type: 'app.updated', appId: 'marker' }]))
    expect(a.events).toEqual([])
  })
})
