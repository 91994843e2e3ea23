import { useState } from 'react'
import type { App } from '../api/types.js'
import { ErrorNote } from '../components/ErrorNote.js'
import { Link } from '../components/Link.js'
import { useSession } from '../lib/api-context.js'
import { formatDate, formatNumber } from '../lib/format.js'
import { navigate, routePath } from '../lib/router.js'
import { usePolling } from '../lib/use-polling.js'

/** All apps with their live connection counts (refreshed every 5 s), and a form to create one. */
export function AppsPage() {
  const { api } = useSession()
  const [apps, setApps] = useState<App[] | null>(null)
  const [error, setError] = useState<unknown>(null)
  usePolling(
    async (live) => {
      try {
        const list = await api.listApps()
        if (live()) {
          setApps(list)
          setError(null)
        }
      } catch (err) {
        if (live()) setError(err)
      }
    },
    5000,
    [api],
  )
  return (
    <main className="page">
      <div className="page-head">
        <h1>Apps</h1>
      </div>
      <CreateApp />
      <ErrorNote error={error} title="Could not load the apps." />
      {apps === null && !error ? <p className="muted">Loading…</p> : null}
      {apps && apps.length === 0 ? <p className="muted">No apps yet. Create one above.</p> : null}
      {apps && apps.length > 0 ? (
        <ul className="app-list" aria-label="Apps">
          {apps.map((app) => (
            <li key={app.id} className="card app-item">
              <div className="app-item-main">
                <Link to={routePath({ page: 'app', appId: app.id, tab: 'stats' })} className="app-name">
                  {app.name}
                </Link>
                <code className="muted small">{app.id}</code>
              </div>
              <dl className="app-item-facts">
                <div>
                  <dt>Connections</dt>
                  <dd data-testid="app-connections">{formatNumber(app.connections ?? 0)}</dd>
                </div>
                <div>
                  <dt>Created</dt>
                  <dd>{formatDate(app.createdAt)}</dd>
                </div>
              </dl>
            </li>
          ))}
        </ul>
      ) : null}
    </main>
  )
}

function CreateApp() {
  const { api } = useSession()
  const [name, setName] = useState('')
  const [error, setError] = useState<unknown>(null)
  const [busy, setBusy] = useState(false)
  return (
    <form
      className="card inline-form"
      onSubmit={async (e) => {
        e.preventDefault()
        const value = name.trim()
        if (!value) return setError(new Error('Give the app a name.'))
        setBusy(true)
        setError(null)
        try {
          const { app } = await api.createApp(value)
          navigate(routePath({ page: 'app', appId: app.id, tab: 'keys' }))
        } catch (err) {
          setError(err)
          setBusy(false)
        }
      }}
    >
      <div className="field grow">
        <label htmlFor="new-app-name">New app name</label>
        <input id="new-app-name" value={name} maxLength={200} onChange={(e) => setName(e.target.value)} placeholder="e.g. Chat production" />
      </div>
      <button type="submit" className="button button-primary" disabled={busy}>
        {busy ? 'Creating…' : 'Create app'}
      </button>
      <ErrorNote error={error} title="Could not create the app." />
    </form>
  )
}
