/** Herald's push service as a library: wire a node from a Config and run it in your own process. */
export { createNode, type HeraldNode } from './node.js'
export { loadConfig, type Config } from './config.js'
export { createLogger } from './logger.js'
export type { Broker, BrokerHandler } from './engine/broker.js'
export type { AppStore } from './apps/app-store.js'
export type { AppSettings } from './apps/settings.js'
