import { useState } from 'react'
import { CodeBlock } from '../../components/CodeBlock.js'
import { CopyButton } from '../../components/CopyButton.js'
import { firstActiveKey } from '../../debug/sign-token.js'
import type { AppData } from '../AppPage.js'
import { pusherCredentials, pusherSnippets } from './pusher-snippets.js'

/**
 * The app's Pusher Channels face: the credentials pusher-js, Laravel Echo and the `pusher`
 * server libraries take (app_id, key, secret, host, port), and samples with them filled in.
 */
export function PusherQuickStart({ data }: { data: AppData }) {
  const key = firstActiveKey(data.keys)
  const [showSecret, setShowSecret] = useState(false)
  if (!key) {
    return (
      <section className="card" aria-label="Pusher credentials">
        <h2>Pusher Channels</h2>
        <p>This app has no active key: create one on the Keys tab to use pusher-js, Laravel Echo or the pusher libraries.</p>
      </section>
    )
  }
  const input = { origin: location.origin, appId: data.app.id, keyId: key.keyId, secret: showSecret ? key.secret : null }
  const c = pusherCredentials(input)
  const s = pusherSnippets(input)
  const rows: Array<[string, string, string | null]> = [
    ['app_id', c.appId, c.appId],
    ['key', c.key, c.key],
    ['secret', showSecret ? key.secret : '•'.repeat(12), key.secret],
    ['host', c.host, c.host],
    ['port', String(c.port), String(c.port)],
    ['scheme', c.scheme, null],
  ]
  return (
    <div className="stack">
      <section className="card" aria-label="Pusher credentials">
        <h2>Pusher Channels</h2>
        <p>
          Unchanged pusher-js, Laravel Echo and pusher server libraries work against this app. The key is any active key of the app (
          <code>{c.key}</code> is shown); its secret signs HTTP API calls and channel auth.
        </p>
        <dl className="settings-grid">
          {rows.map(([name, shown, copy]) => (
            <div key={name} className="field">
              <dt>{name}</dt>
              <dd className="secret-row">
                <code className={name === 'secret' ? 'secret' : undefined} data-pusher={name}>
                  {shown}
                </code>
                {copy !== null ? <CopyButton text={copy} describedAs={`Pusher ${name}`} /> : null}
              </dd>
            </div>
          ))}
        </dl>
        <label className="check" htmlFor="pusher-secret">
          <input id="pusher-secret" type="checkbox" checked={showSecret} onChange={(e) => setShowSecret(e.target.checked)} />
          Show the secret and fill it in below (otherwise the samples read it from PUSHER_APP_SECRET)
        </label>
      </section>
      <CodeBlock title="pusher-js" code={s.pusherJs} />
      <CodeBlock title="Laravel Echo" code={s.echo} />
      <CodeBlock title="Laravel .env" code={s.env} />
      <CodeBlock title="Node: pusher library" code={s.node} />
    </div>
  )
}
