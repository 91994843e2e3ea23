import { Command } from 'commander'
import { isValidChannel } from '@herald/protocol'
import { addAppOptions, appClient, optionsOf, resolveCredentials, type AppOptions } from '../context.js'
import { usage } from '../errors.js'
import { out, outJson } from '../output.js'
import { parseJson } from '../parse.js'

interface Flags extends AppOptions {
  name?: string
  id?: string
  json?: boolean
}

/** Fails early with a usage error on a channel name the service would refuse. */
export function checkChannel(channel: string): string {
  if (!isValidChannel(channel)) throw usage(`invalid channel name "${channel}": 1..164 characters of A-Z a-z 0-9 _ - = @ . ; : /`)
  return channel
}

/** `herald publish <channel> <json>` over the REST API with the app's key. */
export function publishCommand(): Command {
  return addAppOptions(new Command('publish').description('publish a message (REST API, with the app key)'))
    .argument('<channel>', 'the channel')
    .argument('<json>', 'the data, as JSON: \'{"text":"hi"}\', 42, \'"a string"\'')
    .option('--name <name>', 'event name of the message')
    .option('--id <id>', 'publisher id: a repeat within 2 minutes is not delivered again')
    .option('--json', 'print {"channel","id","seq","epoch"} as JSON')
    .action(async (channel: string, json: string, _flags: Flags, command: Command) => {
      const options = optionsOf<Flags>(command)
      checkChannel(channel)
      const data = parseJson(json, 'the message data')
      const herald = appClient(options, await resolveCredentials(options))
      const result = await herald.publish(channel, data, {
        ...(options.name !== undefined ? { name: options.name } : {}),
        ...(options.id !== undefined ? { id: options.id } : {}),
      })
      if (options.json) return outJson(result)
      out(`published ${result.channel} #${result.seq} (${result.id})`)
    })
}
