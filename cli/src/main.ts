#!/usr/bin/env node
import { CommanderError } from 'commander'
import { ExitCode, explain } from './errors.js'
import { note } from './output.js'
import { createProgram } from './program.js'

const program = createProgram()
// `herald subscribe … | head -1`: the reader went away, which ends the command, not an error
process.stdout.on('error', (error: NodeJS.ErrnoException) => process.exit(error.code === 'EPIPE' ? ExitCode.ok : ExitCode.internal))

try {
  await program.parseAsync(process.argv)
  // `start` runs the service in this process: let it run; everything else is done.
  if (program.args[0] !== 'start') process.exit(ExitCode.ok)
} catch (error) {
  if (error instanceof CommanderError) {
    // commander has printed its one-line message already (or the help / version, with exit code 0)
    process.exit(error.exitCode === 0 ? ExitCode.ok : ExitCode.usage)
  }
  const url = program.opts<{ url: string }>().url
  const { code, line } = explain(error, url)
  note(`herald: ${line}`)
  process.exit(code)
}
