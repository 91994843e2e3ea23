import { pino, type Logger } from 'pino'

export type { Logger }

/**
 * Structured JSON logs. Tokens, secrets and authorization headers are redacted wherever
 * they appear in a logged object, so a careless log line cannot leak them.
 */
export function createLogger(level: string): Logger {
  return pino({
    level,
    base: { service: 'herald' },
    redact: {
      paths: ['token', 'secret', 'adminToken', '*.token', '*.secret', 'headers.authorization', 'req.headers.authorization', '*.authorization'],
      censor: '[redacted]',
    },
  })
}
