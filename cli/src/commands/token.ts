import { Command } from 'commander'
import { addAppOptions, appClient, optionsOf, resolveCredentials, type AppOptions } from '../context.js'
import { out, outJson } from '../output.js'
import { parseCapability, parseDuration, parseObject } from '../parse.js'

interface Flags extends AppOptions {
  sub?: string
  cap: string[]
  ttl: string
  info?: string
  json?: boolean
}

const collect = (value: string, previous: string[]) => [...previous, value]

/** `herald token`: signs a client JWT with an app key, locally. */
export function tokenCommand(): Command {
  return addAppOptions(new Command('token').description('mint a client token (JWT) for browsers, WebSocket, SSE and poll clients'))
    .option('--sub <clientId>', 'the client id (needed for presence)')
    .option(
      '--cap <pattern=ops>',
      "grant operations on a channel pattern, e.g. 'chat:*=subscribe,publish' (repeatable; ops: subscribe, publish, presence, history, or *)",
      collect,
      [],
    )
    .option('--ttl <duration>', 'lifetime: seconds, or 90s, 15m, 2h, 1d', '1h')
    .option('--info <json>', 'a JSON object shown to presence members')
    .option('--json', 'print {"token","expiresAt"} as JSON')
    .addHelpText('after', "\nExample:\n  herald token --app app_… --sub u1 --cap 'chat:*=subscribe,publish' --ttl 2h")
    .action(async (_flags: Flags, command: Command) => {
      const options = optionsOf<Flags>(command)
      const ttlSeconds = parseDuration(options.ttl)
      const capability = options.cap.length ? parseCapability(options.cap) : undefined
      const info = options.info === undefined ? undefined : parseObject(options.info, '--info')
      const herald = appClient(options, await resolveCredentials(options))
      const token = await herald.createToken({
        ttlSeconds,
        ...(options.sub ? { clientId: options.sub } : {}),
        ...(capability ? { capability } : {}),
        ...(info ? { info } : {}),
      })
      if (options.json) return outJson({ token, expiresAt: new Date(Date.now() + ttlSeconds * 1000).toISOString() })
      out(token)
    })
}
