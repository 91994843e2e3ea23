import { Command, Option } from 'commander'
import { Client, type Message, type StateChange, type TransportName } from '@herald/client'
import type { Capability, Operation } from '@herald/node'
import { addAppOptions, appClient, optionsOf, requireApp, resolveCredentials, type AppOptions } from '../context.js'
import { CliError, ExitCode, exitCodeFor } from '../errors.js'
import { formatMessage, note, out, outJson } from '../output.js'
import { parseCount } from '../parse.js'
import { NodeWebSocket } from '../websocket.js'
import { checkChannel } from './publish.js'

interface Flags extends AppOptions {
  rewind?: string
  count?: string
  json?: boolean
  token?: string
  sub: string
  transport?: TransportName
  quiet?: boolean
}

/** What the signed token of `subscribe` may do: read the given channels (and join presence ones). */
export function readCapability(channels: string[]): Capability {
  const cap: Capability = {}
  for (const channel of channels) {
    const ops: Operation[] = ['subscribe', 'history']
    if (channel.startsWith('presence-')) ops.push('presence')
    cap[channel] = ops
  }
  return cap
}

/** One line for a connection that the service refused for good (`failed`). */
function failure(reason: string, appId: string): CliError {
  const code = exitCodeFor(reason)
  if (code === ExitCode.notFound) return new CliError(code, `app ${appId} does not exist or was deleted (not_found)`)
  if (code === ExitCode.auth)
    return new CliError(code, `the service refused the credentials: unknown or revoked key, or an invalid or expired token (${reason})`)
  if (code === ExitCode.internal) return new CliError(ExitCode.internal, `the connection failed: ${reason}`)
  return new CliError(code, `the service refused the connection (${reason})`)
}

/**
 * `herald subscribe <channel…>`: prints messages as they arrive, through `@herald/client`,
 * which reconnects with backoff and resumes each channel where it left off.
 */
export function subscribeCommand(): Command {
  return addAppOptions(new Command('subscribe').description('print the messages of channels live; reconnects and resumes by itself (Ctrl-C to stop)'))
    .argument('<channels...>', 'one or more channels')
    .option('--rewind <n>', 'first print the last n messages of each channel')
    .option('--count <n>', 'exit (0) after n messages')
    .option('--json', 'print each message as one JSON line (stdout carries only messages)')
    .option('--token <jwt>', 'a client token to subscribe with (default: one signed with the app key when there is one, else anonymous)')
    .option('--sub <clientId>', 'client id of the token signed for you (shown in presence channels)', 'herald-cli')
    .addOption(new Option('--transport <name>', 'use only this transport (default: websocket, then longpoll)').choices(['websocket', 'longpoll']))
    .option('--quiet', 'no progress lines on stderr')
    .addHelpText('after', '\nProgress (subscribed, connection lost, resumed) goes to stderr; messages go to stdout.')
    .action(async (channels: string[], _flags: Flags, command: Command) => {
      const options = optionsOf<Flags>(command)
      for (const channel of channels) checkChannel(channel)
      const rewind = options.rewind === undefined ? undefined : parseCount(options.rewind, '--rewind', 1)
      const count = options.count === undefined ? undefined : parseCount(options.count, '--count', 1)
      const appId = requireApp(options)
      let getToken: (() => Promise<string>) | undefined
      if (!options.token && ((options.key && options.secret) || options.adminToken)) {
        const herald = appClient(options, await resolveCredentials(options))
        const capability = readCapability(channels)
        getToken = () => herald.createToken({ clientId: options.sub, capability, ttlSeconds: 3600 })
      }
      const client = new Client({
        url: options.url,
        appId,
        ...(options.token ? { token: options.token } : {}),
        ...(getToken ? { getToken } : {}),
        transports: options.transport ? [options.transport] : ['websocket', 'longpoll'],
        env: { WebSocket: NodeWebSocket },
        autoConnect: false,
      })
      const progress = (line: string) => options.quiet || note(line)
      await new Promise<void>((resolve, reject) => {
        let connected = false
        let received = 0
        const finish = (error?: CliError) => {
          client.close()
          process.off('SIGINT', stop)
          process.off('SIGTERM', stop)
          if (error) reject(error)
          else resolve()
        }
        const stop = () => finish()
        process.on('SIGINT', stop)
        process.on('SIGTERM', stop)
        client.on('state', ({ current, reason, retryIn }: StateChange) => {
          if (current === 'connected') {
            if (connected) progress(`reconnected (${client.transport})`)
            connected = true
          } else if (current === 'disconnected' && retryIn !== undefined) {
            // Before the first connection, nothing answered: say so and stop. After it, keep trying.
            if (!connected) {
              const answered = exitCodeFor(reason) !== ExitCode.internal
              finish(answered ? failure(reason, appId) : new CliError(ExitCode.unreachable, `cannot reach ${options.url}: ${reason}`))
            } else progress(`connection lost (${reason}); retrying in ${(retryIn / 1000).toFixed(1)} s`)
          } else if (current === 'failed') finish(failure(reason, appId))
        })
        const onMessage = (message: Message) => {
          if (options.json) outJson(message)
          else out(formatMessage(message))
          if (count !== undefined && ++received >= count) finish()
        }
        for (const channel of channels) {
          const sub = client.subscribe(channel, onMessage, rewind !== undefined ? { rewind } : undefined)
          sub.on('subscribed', ({ seq, resumed, recovered }) => {
            progress(`${resumed ? 'resumed' : 'subscribed to'} ${channel} at #${seq}`)
            if (!recovered) progress(`${channel}: messages may have been missed (the channel's history was lost)`)
          })
          sub.on('error', (e) => finish(new CliError(exitCodeFor(e.code), `${channel}: ${e.message} (${e.code})`)))
        }
        client.connect()
      })
    })
}
