import { Option, type Command } from 'commander'
import { Herald, HeraldAdmin, type AdminKey } from '@herald/node'
import { CliError, ExitCode, usage } from './errors.js'

export const DEFAULT_URL = 'http://127.0.0.1:8080'

/** The options every command that talks to Herald reads (flags, else environment). */
export interface GlobalOptions {
  url: string
  adminToken?: string
}

/** App credentials of the commands that use the public API. */
export interface AppOptions {
  app?: string
  key?: string
  secret?: string
}

/** One attempt per call: a command line should say at once that the service is not there. */
const CALL = { timeoutMs: 10_000, retries: 0 }

/** `--url`, `--admin-token`: on the program, so they work before or after the command name. */
export function addGlobalOptions(program: Command): Command {
  return program
    .addOption(new Option('--url <url>', 'base URL of the Herald service').env('HERALD_URL').default(DEFAULT_URL))
    .addOption(new Option('--admin-token <token>', 'admin token, for apps and keys commands and to look up app keys').env('HERALD_ADMIN_TOKEN'))
}

/** `--app`, `--key`, `--secret`. */
export function addAppOptions(command: Command, what = 'the app'): Command {
  return command
    .addOption(new Option('--app <appId>', `${what}`).env('HERALD_APP_ID'))
    .addOption(new Option('--key <keyId>', 'app key id (default with an admin token: the first live key)').env('HERALD_KEY_ID'))
    .addOption(new Option('--secret <secret>', "the key's secret (looked up with an admin token when not given)").env('HERALD_SECRET'))
}

/** The options of a command, with the program's global ones. */
export function optionsOf<T>(command: Command): T & GlobalOptions {
  return command.optsWithGlobals() as T & GlobalOptions
}

/** The admin API client, or a usage error when there is no admin token. */
export function adminClient(options: GlobalOptions): HeraldAdmin {
  if (!options.adminToken) throw usage('no admin token: pass --admin-token or set HERALD_ADMIN_TOKEN')
  return new HeraldAdmin({ url: options.url, adminToken: options.adminToken, ...CALL })
}

/** An app id, or a usage error. */
export function requireApp(options: AppOptions): string {
  if (!options.app) throw usage('no app: pass --app or set HERALD_APP_ID')
  return options.app
}

export interface Credentials {
  appId: string
  keyId: string
  secret: string
}

/**
 * The app's key: `--key` and `--secret` as given, or looked up with the admin token (the
 * named key, else the app's first live one). An unknown app or key is `not found`; a revoked
 * key is refused here rather than at the service.
 */
export async function resolveCredentials(options: AppOptions & GlobalOptions): Promise<Credentials> {
  const appId = requireApp(options)
  if (options.key && options.secret) return { appId, keyId: options.key, secret: options.secret }
  if (!options.adminToken) {
    throw usage('no app key: pass --key and --secret (or HERALD_KEY_ID / HERALD_SECRET), or an admin token to look the key up')
  }
  const { keys } = await adminClient(options).getApp(appId)
  const key = pickKey(keys, appId, options.key)
  return { appId, keyId: key.keyId, secret: key.secret }
}

function pickKey(keys: AdminKey[], appId: string, keyId: string | undefined): AdminKey {
  if (keyId) {
    const key = keys.find((k) => k.keyId === keyId)
    if (!key) throw new CliError(ExitCode.notFound, `key ${keyId} is not a key of app ${appId} (not_found)`)
    if (key.revokedAt) throw new CliError(ExitCode.auth, `key ${keyId} of app ${appId} was revoked at ${key.revokedAt} (unauthorized)`)
    return key
  }
  const live = keys.find((k) => !k.revokedAt)
  if (!live) throw new CliError(ExitCode.auth, `app ${appId} has no live key (unauthorized)`)
  return live
}

/** The server SDK for an app. */
export function appClient(options: GlobalOptions, credentials: Credentials): Herald {
  return new Herald({ url: options.url, ...credentials, ...CALL })
}
