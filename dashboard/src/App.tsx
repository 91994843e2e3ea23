import { useMemo, useState } from 'react'
import { AdminApi } from './api/admin-api.js'
import { describeError } from './api/api-error.js'
import { Link } from './components/Link.js'
import { SessionContext, type Session } from './lib/api-context.js'
import { navigate, routePath, useRoute } from './lib/router.js'
import { clearToken, loadToken, saveToken } from './lib/session.js'
import { AppPage } from './pages/AppPage.js'
import { AppsPage } from './pages/AppsPage.js'
import { SignIn } from './pages/SignIn.js'

/** The sign-in gate, the header and the routes. */
export function App() {
  const [token, setToken] = useState<string | null>(() => loadToken())
  const [notice, setNotice] = useState<string | null>(null)
  const route = useRoute()
  const session = useMemo<Session | null>(() => {
    if (!token) return null
    const end = () => {
      clearToken()
      setToken(null)
    }
    return {
      api: new AdminApi(token, {
        // The server no longer accepts this token (changed or reset): back to sign-in, same page.
        onUnauthorized: (err) => {
          end()
          setNotice(`Your session ended: ${describeError(err)}. Sign in again with the current admin token.`)
        },
      }),
      signOut() {
        end()
        setNotice(null)
        navigate(routePath({ page: 'apps' }), true)
      },
    }
  }, [token])

  if (!session) {
    return (
      <SignIn
        notice={notice}
        onSignedIn={(t) => {
          setNotice(null)
          saveToken(t)
          setToken(t)
        }}
      />
    )
  }
  return (
    <SessionContext.Provider value={session}>
      <a className="skip-link" href="#content">
        Skip to content
      </a>
      <header className="topbar">
        <Link to={routePath({ page: 'apps' })} className="brand">
          <span className="logo" aria-hidden="true">
            ◉
          </span>{' '}
          Herald
        </Link>
        <button type="button" className="button button-small" onClick={session.signOut}>
          Sign out
        </button>
      </header>
      <div id="content">
        {route.page === 'apps' ? <AppsPage /> : null}
        {route.page === 'app' ? <AppPage key={route.appId} appId={route.appId} tab={route.tab} /> : null}
        {route.page === 'missing' ? (
          <main className="page">
            <h1>Page not found</h1>
            <p>
              <Link to={routePath({ page: 'apps' })}>Back to the apps</Link>
            </p>
          </main>
        ) : null}
      </div>
    </SessionContext.Provider>
  )
}
