import { useState } from 'react'
import { CodeBlock } from '../../components/CodeBlock.js'
import { firstActiveKey } from '../../debug/sign-token.js'
import type { AppData } from '../AppPage.js'
import { PusherQuickStart } from './PusherQuickStart.js'
import { snippets } from './quickstart-snippets.js'

/** How to use this app from a page, a shell and Node, with its ids filled in. */
export function QuickStart({ data }: { data: AppData }) {
  const key = firstActiveKey(data.keys)
  const [withSecret, setWithSecret] = useState(false)
  const s = snippets({ origin: location.origin, appId: data.app.id, keyId: key?.keyId ?? 'key_…', secret: withSecret && key ? key.secret : null })
  return (
    <div className="stack">
      <div className="card">
        <p>
          App id <code>{data.app.id}</code>
          {key ? (
            <>
              {' '}
              and key <code>{key.keyId}</code> are filled in below. Secrets stay server-side: publish from your backend, and give browsers a token signed with
              the key (see
              <code> herald.createToken</code>).
            </>
          ) : (
            <> is filled in below. This app has no active key: create one on the Keys tab to publish.</>
          )}
        </p>
        {key ? (
          <label className="check" htmlFor="qs-secret">
            <input id="qs-secret" type="checkbox" checked={withSecret} onChange={(e) => setWithSecret(e.target.checked)} />
            Fill in the secret of <code>{key.keyId}</code> (otherwise the samples read it from HERALD_SECRET)
          </label>
        ) : null}
      </div>
      <CodeBlock title="Browser: script tag" code={s.scriptTag} />
      <CodeBlock title="Browser: ES module" code={s.module} />
      <CodeBlock title="Publish with curl" code={s.curl} />
      <CodeBlock title="Node SDK" code={s.node} />
      <PusherQuickStart data={data} />
    </div>
  )
}
