import { useState } from 'react'
import { AdminApi } from '../api/admin-api.js'
import { ErrorNote } from '../components/ErrorNote.js'

/** Asks for the admin token and checks it against the admin API before keeping it. */
export function SignIn({ onSignedIn, notice }: { onSignedIn(token: string): void; notice?: string | null }) {
  const [token, setToken] = useState('')
  const [error, setError] = useState<unknown>(null)
  const [busy, setBusy] = useState(false)
  return (
    <main className="signin">
      <form
        className="card signin-card"
        onSubmit={async (e) => {
          e.preventDefault()
          const value = token.trim()
          if (!value) return setError(new Error('Enter the admin token.'))
          setBusy(true)
          setError(null)
          try {
            await new AdminApi(value).listApps()
            onSignedIn(value)
          } catch (err) {
            setError(err)
          } finally {
            setBusy(false)
          }
        }}
      >
        <h1>
          <span className="logo" aria-hidden="true">
            ◉
          </span>{' '}
          Herald dashboard
        </h1>
        <p className="muted">Sign in with the admin token of this Herald server (HERALD_ADMIN_TOKEN, or the one it printed on first start).</p>
        {notice ? (
          <p className="note note-info" role="status">
            {notice}
          </p>
        ) : null}
        <label htmlFor="admin-token">Admin token</label>
        <input
          id="admin-token"
          name="admin-token"
          type="password"
          autoComplete="current-password"
          spellCheck={false}
          value={token}
          onChange={(e) => setToken(e.target.value)}
          required
        />
        <ErrorNote error={error} title="Sign-in failed." />
        <button type="submit" className="button button-primary" disabled={busy}>
          {busy ? 'Checking…' : 'Sign in'}
        </button>
        <p className="muted small">The token is kept in this tab's session storage only, until you sign out or close the tab.</p>
      </form>
    </main>
  )
}
