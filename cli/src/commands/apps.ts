import { Command } from 'commander'
import type { AdminApp, AppSettings } from '@herald/node'
import { adminClient, optionsOf } from '../context.js'
import { out, outJson, shellExports, table } from '../output.js'
import { parseObject } from '../parse.js'

interface Flags {
  json?: boolean
  env?: boolean
  settings?: string
  name?: string
}

const settingsOf = (flags: Flags) => (flags.settings === undefined ? undefined : (parseObject(flags.settings, '--settings') as Partial<AppSettings>))

function appLines(app: AdminApp): string[] {
  return [`app       ${app.id}`, `name      ${app.name}`, `created   ${app.createdAt}`, `settings  ${JSON.stringify(app.settings)}`]
}

/** `herald apps list|create|show|update|delete` over the admin API. */
export function appsCommand(): Command {
  const apps = new Command('apps').description('list, create, show, update and delete apps (admin API; needs the admin token)')

  apps
    .command('list')
    .description('list every app with its live connection count')
    .option('--json', 'print {"apps":[…]} as JSON')
    .action(async (_flags: Flags, command: Command) => {
      const options = optionsOf<Flags>(command)
      const list = await adminClient(options).listApps()
      if (options.json) return outJson({ apps: list })
      if (list.length === 0) return out('no apps')
      out(
        table(
          ['id', 'name', 'connections', 'created'],
          list.map((a) => [a.id, a.name, String(a.connections ?? 0), a.createdAt]),
        ),
      )
    })

  apps
    .command('create')
    .description('create an app and its first key (the secret is shown here only)')
    .argument('<name>', 'a name for people, 1..100 characters')
    .option('--settings <json>', 'settings to change from the defaults, e.g. \'{"historySize":500}\'')
    .option('--json', 'print {"app","key"} as JSON')
    .option('--env', 'print export lines for HERALD_APP_ID, HERALD_KEY_ID and HERALD_SECRET (for eval)')
    .action(async (name: string, _flags: Flags, command: Command) => {
      const options = optionsOf<Flags>(command)
      const settings = settingsOf(options)
      const created = await adminClient(options).createApp(name, settings ? { settings } : {})
      if (options.json) return outJson(created)
      if (options.env) return out(shellExports({ HERALD_APP_ID: created.app.id, HERALD_KEY_ID: created.key.keyId, HERALD_SECRET: created.key.secret }))
      out([...appLines(created.app), `key       ${created.key.keyId}`, `secret    ${created.key.secret}`].join('\n'))
    })

  apps
    .command('show')
    .description('show an app, its settings and all its keys (revoked ones too)')
    .argument('<appId>')
    .option('--json', 'print {"app","keys"} as JSON')
    .action(async (appId: string, _flags: Flags, command: Command) => {
      const options = optionsOf<Flags>(command)
      const shown = await adminClient(options).getApp(appId)
      if (options.json) return outJson(shown)
      const keys = shown.keys.map((k) => [k.keyId, k.label ?? '', k.createdAt, k.revokedAt ? `revoked ${k.revokedAt}` : 'live', JSON.stringify(k.capability)])
      out([...appLines(shown.app), '', table(['key', 'label', 'created', 'state', 'capability'], keys)].join('\n'))
    })

  apps
    .command('update')
    .description("change an app's name and/or some of its settings (the others keep their value)")
    .argument('<appId>')
    .option('--name <name>', 'new name')
    .option('--settings <json>', 'settings to change, e.g. \'{"publishRatePerSecond":50}\'')
    .option('--json', 'print {"app"} as JSON')
    .action(async (appId: string, _flags: Flags, command: Command) => {
      const options = optionsOf<Flags>(command)
      const settings = settingsOf(options)
      const app = await adminClient(options).updateApp(appId, {
        ...(options.name !== undefined ? { name: options.name } : {}),
        ...(settings ? { settings } : {}),
      })
      if (options.json) return outJson({ app })
      out(appLines(app).join('\n'))
    })

  apps
    .command('delete')
    .description('delete an app with its keys, channels and history; its connections are closed')
    .argument('<appId>')
    .action(async (appId: string, _flags: Flags, command: Command) => {
      await adminClient(optionsOf(command)).deleteApp(appId)
      out(`deleted ${appId}`)
    })

  return apps
}
