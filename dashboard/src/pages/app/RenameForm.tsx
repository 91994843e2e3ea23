import { useState } from 'react'
import type { App } from '../../api/types.js'
import { ErrorNote } from '../../components/ErrorNote.js'
import { useSession } from '../../lib/api-context.js'

/** Renames an app. */
export function RenameForm({ app, onSaved }: { app: App; onSaved(app: App): void }) {
  const { api } = useSession()
  const [name, setName] = useState(app.name)
  const [error, setError] = useState<unknown>(null)
  const [busy, setBusy] = useState(false)
  const [saved, setSaved] = useState(false)
  return (
    <form
      className="card inline-form"
      aria-label="Rename app"
      onSubmit={async (e) => {
        e.preventDefault()
        const value = name.trim()
        if (!value) return setError(new Error('The name cannot be empty.'))
        setBusy(true)
        setError(null)
        setSaved(false)
        try {
          onSaved(await api.updateApp(app.id, { name: value }))
          setSaved(true)
        } catch (err) {
          setError(err)
        } finally {
          setBusy(false)
        }
      }}
    >
      <div className="field grow">
        <label htmlFor="app-name">App name</label>
        <input id="app-name" value={name} maxLength={200} onChange={(e) => setName(e.target.value)} />
      </div>
      <button type="submit" className="button" disabled={busy || name.trim() === app.name}>
        Rename
      </button>
      <ErrorNote error={error} title="Could not rename the app." />
      {saved ? (
        <p className="note note-ok" role="status">
          Renamed.
        </p>
      ) : null}
    </form>
  )
}
