// Baseline: the cost floor of naive Node WebSocket fan-out. On POST /publish it builds one
// frame string once and calls ws.send(frame) for every socket subscribed to the channel.
// Speaks just enough of Herald's frames (connected / subscribe / subscribed / message) for
// the same load client to drive it. Run: PORT=… node baseline-ws.mjs
import { createServer } from 'node:http'
import { WebSocketServer } from 'ws'

const port = Number(process.env.PORT ?? 0)
const channels = new Map() // channel -> Set<WebSocket>
const seqs = new Map() // channel -> last seq
let nextConn = 0
let nextMsg = 0

const wss = new WebSocketServer({ noServer: true, perMessageDeflate: false })

wss.on('connection', (ws) => {
  const mine = new Set()
  ws.send(JSON.stringify({ op: 'connected', connectionId: 'c' + ++nextConn, heartbeat: 25 }))
  ws.on('message', (raw) => {
    let frame
    try {
      frame = JSON.parse(raw.toString())
    } catch {
      return
    }
    if (frame.op === 'subscribe' && typeof frame.channel === 'string') {
      let set = channels.get(frame.channel)
      if (!set) channels.set(frame.channel, (set = new Set()))
      set.add(ws)
      mine.add(frame.channel)
      ws.send(JSON.stringify({ op: 'subscribed', channel: frame.channel, epoch: 'e0', seq: seqs.get(frame.channel) ?? 0, ref: frame.ref }))
    } else if (frame.op === 'ping') ws.send('{"op":"pong"}')
  })
  ws.on('close', () => {
    for (const ch of mine) channels.get(ch)?.delete(ws)
  })
})

function publish(body) {
  const channel = body.channel
  const seq = (seqs.get(channel) ?? 0) + 1
  seqs.set(channel, seq)
  const id = 'm' + ++nextMsg
  const frame = JSON.stringify({ op: 'message', channel, id, seq, epoch: 'e0', data: body.data, ts: Date.now() })
  const subs = channels.get(channel)
  if (subs) for (const ws of subs) ws.send(frame)
  return { channel, id, seq, epoch: 'e0' }
}

const server = createServer((req, res) => {
  if (req.method === 'GET' && (req.url === '/healthz' || req.url === '/readyz')) return void res.end('ok')
  if (req.method !== 'POST') return void res.writeHead(404).end()
  const chunks = []
  req.on('data', (c) => chunks.push(c))
  req.on('end', () => {
    try {
      const body = JSON.parse(Buffer.concat(chunks).toString())
      const out = JSON.stringify({ messages: [publish(body)] })
      res.writeHead(200, { 'content-type': 'application/json' }).end(out)
    } catch {
      res.writeHead(400).end('{"error":{"code":"bad_request","message":"bad body"}}')
    }
  })
})

server.on('upgrade', (req, socket, head) => {
  wss.handleUpgrade(req, socket, head, (ws) => wss.emit('connection', ws, req))
})

server.listen(port, '127.0.0.1', () => {
  console.log(`baseline-ws listening on ${server.address().port}`)
})
process.on('SIGTERM', () => process.exit(0))
