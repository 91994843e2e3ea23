// Baseline for REST publish: a bare Hono route on @hono/node-server that parses the JSON
// body and returns a small JSON reply. Run: PORT=… node baseline-hono.mjs
import { serve } from '@hono/node-server'
import { Hono } from 'hono'

const port = Number(process.env.PORT ?? 0)
const app = new Hono()
let seq = 0

app.get('/healthz', (c) => c.text('ok'))
app.post('/v1/apps/:appId/messages', async (c) => {
  const body = await c.req.json()
  return c.json({ messages: [{ channel: body.channel, id: 'm' + ++seq, seq, epoch: 'e0' }] })
})

const server = serve({ fetch: app.fetch, port, hostname: '127.0.0.1' }, (info) => {
  console.log(`baseline-hono listening on ${info.port}`)
})
process.on('SIGTERM', () => server.close(() => process.exit(0)))
