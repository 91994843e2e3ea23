import { useCallback, useEffect, useState } from 'react'
import type { App, AppKey } from '../api/types.js'
import { CopyButton } from '../components/CopyButton.js'
import { ErrorNote } from '../components/ErrorNote.js'
import { Link } from '../components/Link.js'
import { useSession } from '../lib/api-context.js'
import { routePath, type Tab } from '../lib/router.js'
import { DebugConsole } from './app/DebugConsole.js'
import { KeysPanel } from './app/KeysPanel.js'
import { QuickStart } from './app/QuickStart.js'
import { SettingsPanel } from './app/SettingsPanel.js'
import { StatsPanel } from './app/StatsPanel.js'
import { WebhooksPanel } from './app/WebhooksPanel.js'

const TAB_LABELS: Record<Tab, string> = {
  stats: 'Live stats',
  keys: 'Keys',
  settings: 'Settings',
  webhooks: 'Webhooks',
  debug: 'Debug console',
  quickstart: 'Quick start',
}

export interface AppData {
  app: App
  keys: AppKey[]
}

/** One app: a header, tabs as links, and the panel of the current tab. */
export function AppPage({ appId, tab }: { appId: string; tab: Tab }) {
  const { api } = useSession()
  const [data, setData] = useState<AppData | null>(null)
  const [error, setError] = useState<unknown>(null)
  const reload = useCallback(async () => {
    try {
      const next = await api.getApp(appId)
      setData(next)
      setError(null)
    } catch (err) {
      setError(err)
    }
  }, [api, appId])
  useEffect(() => {
    setData(null)
    void reload()
  }, [reload])

  return (
    <main className="page">
      <nav className="breadcrumbs" aria-label="Breadcrumbs">
        <Link to={routePath({ page: 'apps' })}>Apps</Link> <span aria-hidden="true">/</span>
      </nav>
      <ErrorNote error={error} title="Could not load the app." />
      {data ? (
        <>
          <div className="page-head">
            <h1>{data.app.name}</h1>
            <div className="app-id">
              <code>{data.app.id}</code>
              <CopyButton text={data.app.id} describedAs="app id" />
            </div>
          </div>
          <nav className="tabs" aria-label="App sections">
            {(Object.keys(TAB_LABELS) as Tab[]).map((t) => (
              <Link key={t} to={routePath({ page: 'app', appId, tab: t })} className="tab" current={t === tab}>
                {TAB_LABELS[t]}
              </Link>
            ))}
          </nav>
          <section className="panel" aria-label={TAB_LABELS[tab]}>
            {tab === 'stats' ? <StatsPanel appId={appId} /> : null}
            {tab === 'keys' ? <KeysPanel data={data} reload={reload} /> : null}
            {tab === 'settings' ? <SettingsPanel data={data} onSaved={(app) => setData({ ...data, app })} /> : null}
            {tab === 'webhooks' ? <WebhooksPanel data={data} onSaved={(app) => setData({ ...data, app })} /> : null}
            {tab === 'debug' ? <DebugConsole data={data} /> : null}
            {tab === 'quickstart' ? <QuickStart data={data} /> : null}
          </section>
        </>
      ) : !error ? (
        <p className="muted">Loading…</p>
      ) : null}
    </main>
  )
}
