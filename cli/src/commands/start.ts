import { Command } from 'commander'
import { optionsOf } from '../context.js'

interface Flags {
  host?: string
  port?: string
  dataDir?: string
}

/**
 * `herald start`: the service itself, in this process (what `npm start` runs). Flags are
 * shorthands for their environment variables; every other setting is read from the
 * environment as docs/operations.md lists.
 */
export function startCommand(): Command {
  return new Command('start')
    .description('start the Herald service (embedded default: SQLite in ./data, 127.0.0.1:8080; settings from HERALD_* variables)')
    .option('--host <host>', 'interface to listen on (HERALD_HOST)')
    .option('--port <port>', 'port to listen on (HERALD_PORT)')
    .option('--data-dir <dir>', 'data directory of the embedded default (HERALD_DATA_DIR)')
    .action(async (_flags: Flags, command: Command) => {
      const flags = optionsOf<Flags>(command)
      if (flags.adminToken !== undefined) process.env.HERALD_ADMIN_TOKEN = flags.adminToken
      if (flags.host !== undefined) process.env.HERALD_HOST = flags.host
      if (flags.port !== undefined) process.env.HERALD_PORT = flags.port
      if (flags.dataDir !== undefined) process.env.HERALD_DATA_DIR = flags.dataDir
      // The service's entry point: it reads the configuration, listens, and handles SIGTERM/SIGINT.
      await import('@herald/push/main')
    })
}
