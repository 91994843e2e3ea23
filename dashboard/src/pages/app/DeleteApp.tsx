import { useState } from 'react'
import type { App } from '../../api/types.js'
import { ConfirmDialog } from '../../components/ConfirmDialog.js'
import { useSession } from '../../lib/api-context.js'
import { navigate, routePath } from '../../lib/router.js'

/** Deletes an app after its name is typed into the confirmation dialog. */
export function DeleteApp({ app }: { app: App }) {
  const { api } = useSession()
  const [open, setOpen] = useState(false)
  const [typed, setTyped] = useState('')
  const [error, setError] = useState<unknown>(null)
  const [busy, setBusy] = useState(false)
  return (
    <section className="card danger-zone" aria-labelledby="danger-title">
      <h2 id="danger-title">Delete app</h2>
      <p>Deleting the app closes all its connections and removes its keys, channels and history for good.</p>
      <button
        type="button"
        className="button button-danger"
        onClick={() => {
          setTyped('')
          setError(null)
          setOpen(true)
        }}
      >
        Delete app…
      </button>
      <ConfirmDialog
        open={open}
        title={`Delete “${app.name}”?`}
        confirmLabel="Delete app"
        danger
        busy={busy}
        error={error}
        confirmDisabled={typed !== app.name}
        onCancel={() => setOpen(false)}
        onConfirm={async () => {
          setBusy(true)
          try {
            await api.deleteApp(app.id)
            setOpen(false)
            navigate(routePath({ page: 'apps' }))
          } catch (err) {
            setError(err)
            setBusy(false)
          }
        }}
      >
        <p>
          This deletes <strong>{app.name}</strong> (<code>{app.id}</code>) and closes its connections. It cannot be undone.
        </p>
        <label htmlFor="confirm-app-name">
          Type <strong>{app.name}</strong> to confirm
        </label>
        <input id="confirm-app-name" value={typed} autoComplete="off" spellCheck={false} onChange={(e) => setTyped(e.target.value)} />
      </ConfirmDialog>
    </section>
  )
}
