import { Command, Option } from 'commander'
import { adminClient, optionsOf, requireApp } from '../context.js'
import { out, outJson, shellExports, table } from '../output.js'
import { parseCapability } from '../parse.js'

interface Flags {
  app?: string
  label?: string
  cap: string[]
  json?: boolean
  env?: boolean
}

const collect = (value: string, previous: string[]) => [...previous, value]
const appOption = () => new Option('--app <appId>', 'the app').env('HERALD_APP_ID')

/** `herald keys list|create|revoke` over the admin API. */
export function keysCommand(): Command {
  const keys = new Command('keys').description("list, create and revoke an app's keys (admin API; needs the admin token)")

  keys
    .command('list')
    .description("list an app's keys, revoked ones too")
    .addOption(appOption())
    .option('--json', 'print {"keys":[…]} as JSON')
    .action(async (_flags: Flags, command: Command) => {
      const options = optionsOf<Flags>(command)
      const { keys: list } = await adminClient(options).getApp(requireApp(options))
      if (options.json) return outJson({ keys: list })
      out(
        table(
          ['key', 'label', 'created', 'state'],
          list.map((k) => [k.keyId, k.label ?? '', k.createdAt, k.revokedAt ? `revoked ${k.revokedAt}` : 'live']),
        ),
      )
    })

  keys
    .command('create')
    .description('create another key (rotation: create, move publishers, revoke the old one)')
    .addOption(appOption())
    .option('--label <label>', 'a label for people')
    .option('--cap <pattern=ops>', "limit the key, e.g. 'chat:*=publish' (repeatable; default: everything)", collect, [])
    .option('--json', 'print the key as JSON')
    .option('--env', 'print export lines for HERALD_KEY_ID and HERALD_SECRET (for eval)')
    .action(async (_flags: Flags, command: Command) => {
      const options = optionsOf<Flags>(command)
      const appId = requireApp(options)
      const capability = options.cap.length ? parseCapability(options.cap) : undefined
      const key = await adminClient(options).createKey(appId, { ...(options.label ? { label: options.label } : {}), ...(capability ? { capability } : {}) })
      if (options.json) return outJson(key)
      if (options.env) return out(shellExports({ HERALD_KEY_ID: key.keyId, HERALD_SECRET: key.secret }))
      out([`key         ${key.keyId}`, `secret      ${key.secret}`, `capability  ${JSON.stringify(key.capability)}`].join('\n'))
    })

  keys
    .command('revoke')
    .description('revoke a key: it and every token it signed stop working at once')
    .argument('<keyId>')
    .addOption(appOption())
    .action(async (keyId: string, _flags: Flags, command: Command) => {
      const options = optionsOf<Flags>(command)
      await adminClient(options).revokeKey(requireApp(options), keyId)
      out(`revoked ${keyId}`)
    })

  return keys
}
