import { Command } from 'commander'
import { addAppOptions, appClient, optionsOf, resolveCredentials, type AppOptions } from '../context.js'
import { formatMessage, out, outJson } from '../output.js'
import { parseCount } from '../parse.js'
import { checkChannel } from './publish.js'

interface Flags extends AppOptions {
  limit?: string
  after?: string
  json?: boolean
}

/** `herald history <channel>` over the REST API with the app's key. */
export function historyCommand(): Command {
  return addAppOptions(new Command('history').description("print a channel's history, oldest first (REST API, with the app key)"))
    .argument('<channel>', 'the channel')
    .option('--limit <n>', 'how many messages (the service caps it)')
    .option('--after <seq>', 'the messages after this seq (else the latest)')
    .option('--json', 'print {"epoch","messages":[…]} as JSON')
    .action(async (channel: string, _flags: Flags, command: Command) => {
      const options = optionsOf<Flags>(command)
      checkChannel(channel)
      const limit = options.limit === undefined ? undefined : parseCount(options.limit, '--limit', 1)
      const after = options.after === undefined ? undefined : parseCount(options.after, '--after')
      const herald = appClient(options, await resolveCredentials(options))
      const reply = await herald.history(channel, { ...(limit !== undefined ? { limit } : {}), ...(after !== undefined ? { after } : {}) })
      if (options.json) return outJson(reply)
      for (const m of reply.messages) out(formatMessage(m))
    })
}
