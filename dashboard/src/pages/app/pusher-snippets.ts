/**
 * The Pusher Channels face of one app: the credentials Pusher clients and server libraries
 * take, and copy-paste samples (pusher-js, Laravel Echo, Laravel `.env`, the `pusher` library)
 * with the app's real values filled in. See docs/pusher.md.
 */
export interface PusherInput {
  /** The dashboard's origin, which is the Herald node (or its load balancer). */
  origin: string
  appId: string
  keyId: string
  /** The secret to inline, or null to refer to `PUSHER_APP_SECRET`. */
  secret: string | null
}

export interface PusherCredentials {
  appId: string
  key: string
  secret: string | null
  host: string
  port: number
  scheme: 'http' | 'https'
  useTLS: boolean
}

const q = (s: string) => `'${s.replace(/\\/g, '\\\\').replace(/'/g, "\\'")}'`

/** The Pusher credentials of an app served from `origin`. */
export function pusherCredentials({ origin, appId, keyId, secret }: PusherInput): PusherCredentials {
  const url = new URL(origin)
  const useTLS = url.protocol === 'https:'
  const port = url.port ? Number(url.port) : useTLS ? 443 : 80
  return { appId, key: keyId, secret, host: url.hostname, port, scheme: useTLS ? 'https' : 'http', useTLS }
}

/** Samples for pusher-js, Laravel Echo, a Laravel `.env` and the Node `pusher` library. */
export function pusherSnippets(input: PusherInput) {
  const c = pusherCredentials(input)
  // pusher-js reads wsPort for ws:// and wssPort for wss://; httpHost/httpPort for its HTTP fallbacks.
  const clientOptions = `cluster: 'any', // ignored: the host below is used
  wsHost: ${q(c.host)},
  wsPort: ${c.port},
  wssPort: ${c.port},
  httpHost: ${q(c.host)},
  httpPort: ${c.port},
  httpsPort: ${c.port},
  forceTLS: ${c.useTLS},`
  return {
    pusherJs: `import Pusher from 'pusher-js'

const pusher = new Pusher(${q(c.key)}, {
  ${clientOptions}
  channelAuthorization: { endpoint: '/pusher/auth', transport: 'ajax' }, // your backend signs private channels
})
pusher.subscribe('chat').bind('greeting', (data) => console.log(data))`,
    echo: `import Echo from 'laravel-echo'
import Pusher from 'pusher-js'

window.Pusher = Pusher
window.Echo = new Echo({
  broadcaster: 'pusher',
  key: ${q(c.key)},
  ${clientOptions}
})
window.Echo.private('orders').listen('OrderShipped', (e) => console.log(e))`,
    env: `BROADCAST_CONNECTION=pusher
PUSHER_APP_ID=${c.appId}
PUSHER_APP_KEY=${c.key}
PUSHER_APP_SECRET=${c.secret ?? '<the secret of this key>'}
PUSHER_HOST=${c.host}
PUSHER_PORT=${c.port}
PUSHER_SCHEME=${c.scheme}
PUSHER_APP_CLUSTER=mt1

VITE_PUSHER_APP_KEY="\${PUSHER_APP_KEY}"
VITE_PUSHER_HOST="\${PUSHER_HOST}"
VITE_PUSHER_PORT="\${PUSHER_PORT}"
VITE_PUSHER_SCHEME="\${PUSHER_SCHEME}"
VITE_PUSHER_APP_CLUSTER="\${PUSHER_APP_CLUSTER}"`,
    node: `import Pusher from 'pusher'

const pusher = new Pusher({
  appId: ${q(c.appId)},
  key: ${q(c.key)},
  secret: ${c.secret === null ? 'process.env.PUSHER_APP_SECRET' : q(c.secret)},
  host: ${q(c.host)},
  port: ${q(String(c.port))},
  useTLS: ${c.useTLS},
})

await pusher.trigger('chat', 'greeting', { text: 'hello' })`,
  }
}
