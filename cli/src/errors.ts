import { HeraldError as ClientError } from '@herald/client'
import { HeraldError } from '@herald/node'

/**
 * Exit codes of `herald` (docs/cli.md): one per kind of failure a script may want to tell
 * apart. Commander's own usage errors (unknown option, missing argument) exit with `usage`.
 */
export const ExitCode = {
  ok: 0,
  /** Anything unexpected, and the service's `internal` errors. */
  internal: 1,
  /** Bad command line: unknown option, missing argument, malformed JSON, bad capability. */
  usage: 2,
  /** The service did not answer: connection refused, DNS, timeout. */
  unreachable: 3,
  /** Credentials refused: wrong admin token, unknown or revoked key, bad or expired token. */
  auth: 4,
  /** No such app or key. */
  notFound: 5,
  /** The credentials do not allow this (capability). */
  forbidden: 6,
  /** The service refused the request: bad request, too large, rate or plan limits. */
  refused: 7,
} as const
export type ExitCode = (typeof ExitCode)[keyof typeof ExitCode]

/** A failure the command line explains itself: one line on stderr, then `exit(code)`. */
export class CliError extends Error {
  override readonly name = 'CliError'
  constructor(
    readonly code: ExitCode,
    message: string,
  ) {
    super(message)
  }
}

/** A usage error (exit 2). */
export const usage = (message: string) => new CliError(ExitCode.usage, message)

/** The exit code for a contract error code (or `network` / `timeout`). */
export function exitCodeFor(code: string): ExitCode {
  switch (code) {
    case 'network':
    case 'timeout':
      return ExitCode.unreachable
    case 'unauthorized':
    case 'token_expired':
      return ExitCode.auth
    case 'not_found':
      return ExitCode.notFound
    case 'forbidden':
      return ExitCode.forbidden
    case 'bad_request':
    case 'too_large':
    case 'rate_limited':
    case 'limit_exceeded':
      return ExitCode.refused
    default:
      return ExitCode.internal
  }
}

/**
 * Turns anything thrown into one line and an exit code. `url` is the service the command
 * talked to, named when it could not be reached.
 *
 * @example
 * explain(new HeraldError('network', 'network error: fetch failed (ECONNREFUSED)'), 'http://127.0.0.1:1')
 * // { code: 3, line: 'cannot reach http://127.0.0.1:1: network error: fetch failed (ECONNREFUSED)' }
 */
export function explain(error: unknown, url: string): { code: ExitCode; line: string } {
  if (error instanceof CliError) return { code: error.code, line: oneLine(error.message) }
  if (error instanceof HeraldError || error instanceof ClientError) {
    const code = exitCodeFor(error.code)
    if (code === ExitCode.unreachable) return { code, line: oneLine(`cannot reach ${url}: ${error.message}`) }
    return { code, line: oneLine(`${error.message} (${error.code})`) }
  }
  return { code: ExitCode.internal, line: oneLine(error instanceof Error ? error.message : String(error)) }
}

function oneLine(text: string): string {
  return text.replace(/\s*\n\s*/g, ' ').trim()
}
