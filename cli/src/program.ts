import { Command } from 'commander'
import { appsCommand } from './commands/apps.js'
import { historyCommand } from './commands/history.js'
import { keysCommand } from './commands/keys.js'
import { publishCommand } from './commands/publish.js'
import { startCommand } from './commands/start.js'
import { subscribeCommand } from './commands/subscribe.js'
import { tokenCommand } from './commands/token.js'
import { addGlobalOptions } from './context.js'

export const VERSION = '0.1.0'

const EXIT_CODES = `
Exit codes: 0 ok, 1 internal error, 2 usage (bad flags, malformed JSON), 3 service unreachable,
4 credentials refused (admin token, key, token), 5 app or key not found, 6 forbidden,
7 request refused (bad request, too large, rate or plan limit). Details: docs/cli.md.`

/** The `herald` program: every command, with `--help` on each (commander makes it). */
export function createProgram(): Command {
  const program = addGlobalOptions(new Command('herald'))
    .description('Herald on the command line: run the service, manage apps and keys, mint tokens, publish, subscribe, read history')
    .version(VERSION)
    .addHelpText('after', EXIT_CODES)
  for (const command of [startCommand(), appsCommand(), keysCommand(), tokenCommand(), publishCommand(), subscribeCommand(), historyCommand()]) {
    program.addCommand(command)
  }
  walk(program, (command) => {
    // usage errors come back as exceptions (main.ts exits with 2), help shows --url and --admin-token everywhere
    command.exitOverride().configureHelp({ showGlobalOptions: true })
  })
  return program
}

function walk(command: Command, visit: (command: Command) => void): void {
  visit(command)
  for (const sub of command.commands) walk(sub, visit)
}
