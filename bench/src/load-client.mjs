// A load-client process (forked by run.mjs, never inside a server's process). It opens
// subscriber connections over one transport (ws | sse | poll | pusher), in batches, and measures
// each delivery's end-to-end latency: receive time − the publisher's stamp `data.t`
// (both `performance.timeOrigin + performance.now()`, processes on the same machine).
// Commands arrive over IPC: connect, count, reset, report, close.
import http from 'node:http'
import { performance } from 'node:perf_hooks'
import WebSocket from 'ws'
import { Histogram } from './histogram.mjs'

const now = () => performance.timeOrigin + performance.now()
const sockets = [] // WebSocket and SSE connections, each with .close(); pollers stop on `closing`
let hist = new Histogram()
const first = new Map() // message n -> smallest latency seen in this process
const closes = {} // close code -> count (unexpected closes only)
let received = 0
let lastRecv = 0
let errors = 0
let closing = false

function onMessage(msg) {
  const d = msg.data
  if (!d || typeof d.n !== 'number') return
  const t = now()
  const lat = t - d.t
  received++
  lastRecv = t
  hist.record(lat)
  const f = first.get(d.n)
  if (f === undefined || lat < f) first.set(d.n, lat)
}

function connectWs(cfg, channel) {
  return new Promise((resolve) => {
    const ws = new WebSocket(cfg.wsUrl, { perMessageDeflate: false })
    const conn = { close: () => ws.terminate() }
    let done = false
    const finish = (ok) => {
      if (!done) {
        done = true
        resolve(ok)
      }
    }
    ws.on('message', (raw) => {
      const frame = JSON.parse(raw.toString())
      if (frame.op === 'message') onMessage(frame)
      else if (frame.op === 'connected') ws.send(JSON.stringify({ op: 'subscribe', channel }))
      else if (frame.op === 'subscribed') finish(true)
      else if (frame.op === 'error') {
        errors++
        finish(false)
      }
    })
    ws.on('error', () => {
      errors++
      finish(false)
    })
    ws.on('close', (code) => {
      if (!closing) closes[code] = (closes[code] ?? 0) + 1
      finish(false)
    })
    sockets.push(conn)
  })
}

/** A Pusher protocol 7 subscriber (`/app/:key`), as pusher-js speaks it: events carry `data` as JSON text. */
function connectPusher(cfg, channel) {
  return new Promise((resolve) => {
    const ws = new WebSocket(cfg.wsUrl, { perMessageDeflate: false })
    const conn = { close: () => ws.terminate() }
    let done = false
    const finish = (ok) => {
      if (!done) {
        done = true
        resolve(ok)
      }
    }
    ws.on('message', (raw) => {
      const frame = JSON.parse(raw.toString())
      // Unnamed Herald messages are the Pusher event 'message'; their data is JSON text.
      if (frame.event === 'message') onMessage({ data: JSON.parse(frame.data) })
      else if (frame.event === 'pusher:connection_established') ws.send(JSON.stringify({ event: 'pusher:subscribe', data: { channel } }))
      else if (frame.event === 'pusher_internal:subscription_succeeded') finish(true)
      else if (frame.event === 'pusher:ping') ws.send('{"event":"pusher:pong","data":{}}')
      else if (frame.event === 'pusher:error' || frame.event === 'pusher:subscription_error') {
        errors++
        finish(false)
      }
    })
    ws.on('error', () => {
      errors++
      finish(false)
    })
    ws.on('close', (code) => {
      if (!closing) closes[code] = (closes[code] ?? 0) + 1
      finish(false)
    })
    sockets.push(conn)
  })
}

function connectSse(cfg, channel) {
  return new Promise((resolve) => {
    const conn = { close: () => req.destroy() }
    let done = false
    const finish = (ok) => {
      if (!done) {
        done = true
        resolve(ok)
      }
    }
    const req = http.get(
      `${cfg.httpBase}/v1/apps/${cfg.appId}/sse?channels=${encodeURIComponent(channel)}`,
      { agent: false, headers: { accept: 'text/event-stream' } },
      (res) => {
        if (res.statusCode !== 200) {
          errors++
          res.resume()
          return finish(false)
        }
        res.setEncoding('utf8')
        let buf = ''
        res.on('data', (chunk) => {
          buf += chunk
          let i
          while ((i = buf.indexOf('\n\n')) >= 0) {
            const block = buf.slice(0, i)
            buf = buf.slice(i + 2)
            let event = 'message'
            let data = ''
            for (const line of block.split('\n')) {
              if (line.startsWith('event:')) event = line.slice(6).trim()
              else if (line.startsWith('data:')) data += line.slice(5).replace(/^ /, '')
            }
            if (event === 'subscribed') finish(true)
            else if (event === 'message' && data) onMessage(JSON.parse(data))
            else if (event === 'error') errors++
          }
        })
        res.on('close', () => {
          if (!closing) closes.sse_end = (closes.sse_end ?? 0) + 1
          finish(false)
        })
      },
    )
    req.on('error', () => {
      if (!closing) errors++
      finish(false)
    })
    sockets.push(conn)
  })
}

const pollAgent = new http.Agent({ keepAlive: true, maxSockets: Infinity })
const pollRequests = new Set()

function getJson(url) {
  return new Promise((resolve, reject) => {
    const req = http.get(url, { agent: pollAgent }, (res) => {
      let body = ''
      res.setEncoding('utf8')
      res.on('data', (c) => (body += c))
      res.on('end', () => (res.statusCode === 200 ? resolve(JSON.parse(body)) : reject(new Error(`${res.statusCode} ${body}`))))
      res.on('error', reject)
    })
    req.on('error', reject)
    pollRequests.add(req)
    req.on('close', () => pollRequests.delete(req))
  })
}

function connectPoll(cfg, channel) {
  const base = `${cfg.httpBase}/v1/apps/${cfg.appId}/poll?channels=${encodeURIComponent(channel)}`
  return getJson(base).then(
    (head) => {
      let cursor = head.cursor
      ;(async () => {
        while (!closing) {
          try {
            const r = await getJson(`${base}&cursor=${encodeURIComponent(cursor)}&wait=25`)
            cursor = r.cursor
            for (const m of r.messages) onMessage(m)
          } catch {
            if (closing) return
            errors++
            await new Promise((r) => setTimeout(r, 100))
          }
        }
      })()
      return true
    },
    () => {
      errors++
      return false
    },
  )
}

const connectors = { ws: connectWs, sse: connectSse, poll: connectPoll, pusher: connectPusher }

async function connect(cfg) {
  const connectOne = connectors[cfg.transport]
  let ok = 0
  let failed = 0
  for (let i = 0; i < cfg.count; i += cfg.batch) {
    const batch = []
    for (let j = i; j < Math.min(cfg.count, i + cfg.batch); j++) batch.push(connectOne(cfg, cfg.channels[(cfg.offset + j) % cfg.channels.length]))
    for (const r of await Promise.all(batch)) r ? ok++ : failed++
  }
  return { ok, failed }
}

process.on('message', async (cmd) => {
  if (cmd.cmd === 'connect') {
    const r = await connect(cmd.cfg)
    process.send({ type: 'connected', ...r, errors, closes })
  } else if (cmd.cmd === 'count') {
    process.send({ type: 'count', received, lastRecv })
  } else if (cmd.cmd === 'reset') {
    received = 0
    lastRecv = 0
    hist = new Histogram()
    first.clear()
    process.send({ type: 'reset' })
  } else if (cmd.cmd === 'report') {
    process.send({ type: 'report', received, lastRecv, errors, closes, hist: hist.toJSON(), first: [...first] })
  } else if (cmd.cmd === 'close') {
    closing = true
    for (const s of sockets) s.close()
    for (const r of pollRequests) r.destroy()
    pollAgent.destroy()
    process.send({ type: 'closed' }, () => process.exit(0))
  }
})
process.on('disconnect', () => process.exit(0))
