// REST publish: requests per second with Basic auth and with a JWT against Herald (the embedded
// default: durable SQLite history), Basic against HERALD_HISTORY=memory, and the bare Hono route
// as the baseline.
import { createHmac } from 'node:crypto'
import { restRun } from '../measure.mjs'
import { row } from '../report.mjs'
import { startBaselineHono, startHerald } from '../servers.mjs'

const b64url = (x) => Buffer.from(typeof x === 'string' ? x : JSON.stringify(x)).toString('base64url')

/** An HS256 JWT as the contract says: `kid` header, signed with the UTF-8 bytes of the secret. */
export function signJwt(keyId, secret, claims) {
  const head = b64url({ alg: 'HS256', typ: 'JWT', kid: keyId }) + '.' + b64url(claims)
  return head + '.' + createHmac('sha256', Buffer.from(secret, 'utf8')).update(head).digest('base64url')
}

export default {
  name: 'rest',
  title: (o) => `REST publish: ${o.concurrency} requests in flight, 100-byte payloads, channel without subscribers`,
  defaults: { concurrency: 16, duration: 10, warmup: 2 },
  quick: { concurrency: 16, duration: 1, warmup: 0.5 },
  variants: (o) => {
    const run = (s, headers) => restRun(s, { headers, concurrency: o.concurrency, duration: o.duration, warmup: o.warmup })
    return [
      { name: 'basic', start: () => startHerald(o), measure: (s) => run(s, { authorization: s.basic }) },
      {
        name: 'jwt',
        start: () => startHerald(o),
        measure: (s) => {
          const t = Math.floor(Date.now() / 1000)
          return run(s, { authorization: 'Bearer ' + signJwt(s.keyId, s.secret, { iat: t, exp: t + 3600, sub: 'bench', cap: { '*': ['publish'] } }) })
        },
      },
      { name: 'memory', start: () => startHerald({ ...o, env: { HERALD_HISTORY: 'memory' } }), measure: (s) => run(s, { authorization: s.basic }) },
      { name: 'hono', start: startBaselineHono, measure: (s) => run(s, {}) },
    ]
  },
  rows: ({ basic, jwt, memory, hono }) => [
    row('Requests / s, Basic auth', basic.rps, hono.rps, { digits: 0, target: { text: '≥ 0.8 × bare Hono', ok: (r) => r >= 0.8 } }),
    row('Requests / s, JWT (HS256)', jwt.rps, hono.rps, { digits: 0, target: { text: '≥ 0.8 × bare Hono', ok: (r) => r >= 0.8 } }),
    row('Requests / s, Basic, HERALD_HISTORY=memory', memory.rps, hono.rps, { digits: 0 }),
    row('Durable vs memory history: server CPU s / 1M requests, Basic (base column: memory, not Hono)', basic.cpuPer1M, memory.cpuPer1M, {
      digits: 1,
      target: { text: '≤ 1.1 × memory', ok: (r) => r <= 1.1 },
    }),
    row('Server CPU s / 1M requests, Basic', basic.cpuPer1M, hono.cpuPer1M),
    row('Server CPU s / 1M requests, Basic, memory history', memory.cpuPer1M, hono.cpuPer1M),
    row('Server CPU s / 1M requests, JWT', jwt.cpuPer1M, hono.cpuPer1M),
    row('Server CPU (% of a core), Basic', basic.serverCpuPct, hono.serverCpuPct),
  ],
  baseLabel: 'Bare Hono',
}
