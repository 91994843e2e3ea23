import { CloseCodes, type Message } from '@herald/protocol'
import { afterEach, describe, expect, it } from 'vitest'
import type { AppRegistry } from '../apps/registry.js'
import { DEFAULT_SETTINGS } from '../apps/settings.js'
import type { App } from '../apps/types.js'
import { createLogger } from '../logger.js'
import { Metrics } from '../metrics.js'
import { MemoryBroker } from './broker-memory.js'
import { MemoryClusterState } from './cluster-state-memory.js'
import type { EncodedMessage } from './encoded.js'
import { Engine } from './engine.js'
import { MemoryPresence } from './presence-memory.js'
import type { ClientSession } from './session.js'
import type { Wire } from './wire.js'

const app: App = { id: 'app_exclude', name: 't', settings: { ...DEFAULT_SETTINGS }, createdAt: '' }

class ListWire implements Wire {
  readonly kind = 'list'
  readonly messages: Message[] = []
  session!: ClientSession
  bufferedBytes(): number {
    return 0
  }
  message(_channel: string, m: EncodedMessage): number {
    this.messages.push(m.message)
    return 1
  }
  presence(): number {
    return 0
  }
  end(): void {
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

describe('publish with exclude', () => {
  it('leaves the excluded session out, and the next message is no gap that would replay it', async () => {
    const registry = { app: async () => app, activeKey: async () => null } as unknown as AppRegistry
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
    const [a, b] = [new ListWire(), new ListWire()]
    for (const w of [a, b]) {
      w.session = engine.open({ app, identity: { kind: 'anonymous', appId: app.id }, wire: w })
      await w.session.subscribe('room')
    }
    await engine.publish(app, [{ channel: 'room', data: 1, exclude: a.session.id }], 'test')
    await engine.publish(app, [{ channel: 'room', data: 2 }], 'test')
    await engine.publish(app, [{ channel: 'room', data: 3, exclude: b.session.id }], 'test')
    await engine.publish(app, [{ channel: 'room', data: 4 }], 'test')
    // A repair from history would be asynchronous: let any run before looking.
    await new Promise((r) => setImmediate(r))
    await engine.history(app.id, 'room', { limit: 10 })
    expect(a.messages.map((m) => m.data)).toEqual([2, 3, 4])
    expect(b.messages.map((m) => m.data)).toEqual([1, 2, 4])
  })
})
