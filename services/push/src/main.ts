#!/usr/bin/env node
import { loadConfig } from './config.js'
import { createLogger } from './logger.js'
import { createNode } from './node.js'

const config = loadConfig()
const logger = createLogger(config.logLevel)

try {
  const node = await createNode(config, { logger })
  await node.start()
  let stopping = false
  const stop = (signal: string) => {
    if (stopping) return
    stopping = true
    logger.info({ signal }, 'shutting down')
    node.shutdown().then(
      () => process.exit(0),
      (err: unknown) => {
        logger.error({ err }, 'shutdown failed')
        process.exit(1)
      },
    )
  }
  process.on('SIGTERM', () => stop('SIGTERM'))
  process.on('SIGINT', () => stop('SIGINT'))
} catch (err) {
  logger.fatal({ err }, 'herald could not start')
  process.exit(1)
}
