import type { AppRegistry } from './apps/registry.js'
import type { AppStore } from './apps/app-store.js'
import type { Config } from './config.js'
import type { ControlBus } from './control/control-bus.js'
import type { Broker } from './engine/broker.js'
import type { Hub } from './engine/hub.js'
import type { Publisher } from './engine/publisher.js'
import type { Logger } from './logger.js'
import type { Metrics } from './metrics.js'

/** What the transports and routes of a node share; built once in `createNode`. */
export interface NodeContext {
  config: Config
  logger: Logger
  store: AppStore
  registry: AppRegistry
  control: ControlBus
  broker: Broker
  hub: Hub
  publisher: Publisher
  metrics: Metrics
  /** True once shutdown has begun: new connections are refused. */
  draining: () => boolean
}
