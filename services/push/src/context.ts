import type { AppStore } from './apps/app-store.js'
import type { Config } from './config.js'
import type { ControlBus } from './control/control-bus.js'
import type { Engine } from './engine/engine.js'
import type { Logger } from './logger.js'
import type { Metrics } from './metrics.js'

/**
 * What the protocols and routes of a node share; built once in `createNode`. Client-facing
 * code goes through `engine` (sessions, publish, history, presence, state); `store` and
 * `control` are for the admin API (the control plane) only.
 */
export interface NodeContext {
  config: Config
  logger: Logger
  engine: Engine
  metrics: Metrics
  /** The control plane: the admin API manages apps and keys through it. */
  store: AppStore
  control: ControlBus
  /** True once shutdown has begun: new connections are refused. */
  draining: () => boolean
}
