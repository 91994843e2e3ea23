import PusherJs from 'pusher-js'
const [port, key, transport] = process.argv.slice(2)
PusherJs.logToConsole = true
const p = new PusherJs(key, { cluster: 'any', wsHost: '127.0.0.1', wsPort: +port, httpHost: '127.0.0.1', httpPort: +port, forceTLS: false, enabledTransports: [transport] })
p.connection.bind('state_change', (s) => console.log('STATE', s.current, p.connection.socket_id))
const ch = p.subscribe('news')
ch.bind('pusher:subscription_succeeded', async () => {
  console.log('SUBSCRIBED')
})
ch.bind('greet', (d) => { console.log('GOT', d); p.disconnect(); setTimeout(() => process.exit(0), 300) })
setTimeout(() => { console.log('TIMEOUT'); process.exit(1) }, 8000)
