export interface SnippetInput {
  origin: string
  appId: string
  keyId: string
  /** The secret to inline, or null to refer to `$HERALD_SECRET` / `process.env.HERALD_SECRET`. */
  secret: string | null
}

const q = (s: string) => `'${s.replace(/\\/g, '\\\\').replace(/'/g, "\\'")}'`

/**
 * Copy-paste samples for one app, with its real ids filled in.
 * @example snippets({ origin: 'https://push.example.com', appId: 'app_1', keyId: 'key_1', secret: null }).curl
 */
export function snippets({ origin, appId, keyId, secret }: SnippetInput) {
  const shellSecret = secret === null ? '$HERALD_SECRET' : secret.replace(/'/g, `'\\''`)
  return {
    scriptTag: `<script src="${origin}/sdk/herald.js"></script>
<script>
  const client = new Herald.Client({ url: ${q(origin)}, appId: ${q(appId)} })
  const sub = client.subscribe('chat', (message) => {
    console.log(message.name, message.data)
  })
</script>`,
    module: `import { Client } from '@herald/client'

const client = new Client({ url: ${q(origin)}, appId: ${q(appId)} })
client.subscribe('chat', (message) => console.log(message.name, message.data))`,
    curl: `curl -X POST ${q(`${origin}/v1/apps/${appId}/messages`)} \\
  -u ${secret === null ? `"${keyId}:${shellSecret}"` : `'${keyId}:${shellSecret}'`} \\
  -H 'content-type: application/json' \\
  -d '{"channel":"chat","name":"greeting","data":{"text":"hello"}}'`,
    node: `import { Herald } from '@herald/node'

const herald = new Herald({
  url: ${q(origin)},
  appId: ${q(appId)},
  keyId: ${q(keyId)},
  secret: ${secret === null ? 'process.env.HERALD_SECRET' : q(secret)},
})

await herald.publish('chat', { text: 'hello' }, { name: 'greeting' })`,
  }
}
