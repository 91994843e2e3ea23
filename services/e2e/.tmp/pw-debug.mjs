import WebSocket from 'ws'
const [port, key] = process.argv.slice(2)
const ws = new WebSocket(`ws://127.0.0.1:${port}/app/${key}?protocol=7&client=js&version=8.6.0`)
ws.on('message', (d) => console.log('<', String(d)))
ws.on('close', (c, r) => console.log('close', c, String(r)))
ws.on('open', () => {
  ws.send(JSON.stringify({ event: 'pusher:subscribe', data: { channel: 'news' } }))
  ws.send('garbage')
  ws.send(JSON.stringify({ event: 'pusher:ping', data: {} }))
  setTimeout(() => ws.close(), 1000)
})
