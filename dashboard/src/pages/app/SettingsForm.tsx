import { useState } from 'react'
import type { App } from '../../api/types.js'
import { ErrorNote } from '../../components/ErrorNote.js'
import { useSession } from '../../lib/api-context.js'
import { changedSettings, SETTING_FIELDS, toDraft, validateSettings, type SettingsDraft } from '../../settings/settings-spec.js'

/** Every app setting, validated with the service's bounds, default shown; sends only what changed. */
export function SettingsForm({ app, onSaved }: { app: App; onSaved(app: App): void }) {
  const { api } = useSession()
  const [draft, setDraft] = useState<SettingsDraft>(() => toDraft(app.settings))
  const [errors, setErrors] = useState<Record<string, string>>({})
  const [error, setError] = useState<unknown>(null)
  const [busy, setBusy] = useState(false)
  const [saved, setSaved] = useState<string | null>(null)
  const set = <K extends keyof SettingsDraft>(key: K, value: SettingsDraft[K]) => {
    setDraft((d) => ({ ...d, [key]: value }))
    setSaved(null)
  }

  return (
    <form
      className="card"
      aria-labelledby="settings-title"
      noValidate
      onSubmit={async (e) => {
        e.preventDefault()
        setError(null)
        setSaved(null)
        const result = validateSettings(draft)
        if (!result.ok) {
          setErrors(result.errors as Record<string, string>)
          const first = SETTING_FIELDS.find((f) => result.errors[f.key])
          if (first) document.getElementById(`setting-${first.key}`)?.focus()
          return
        }
        setErrors({})
        const patch = changedSettings(app.settings, result.settings)
        if (Object.keys(patch).length === 0) return setSaved('Nothing to save: no setting changed.')
        setBusy(true)
        try {
          const updated = await api.updateApp(app.id, { settings: patch })
          setDraft(toDraft(updated.settings))
          onSaved(updated)
          setSaved('Settings saved.')
        } catch (err) {
          setError(err)
        } finally {
          setBusy(false)
        }
      }}
    >
      <h2 id="settings-title">Settings</h2>
      <div className="settings-grid">
        {SETTING_FIELDS.map((f) => {
          const id = `setting-${f.key}`
          const err = errors[f.key]
          const describedBy = `${id}-help${err ? ` ${id}-error` : ''}`
          const defaultText = f.kind === 'boolean' ? (f.default ? 'on' : 'off') : f.kind === 'origins' ? f.default.join(', ') : f.default.toLocaleString('en')
          return (
            <div key={f.key} className={f.kind === 'origins' ? 'field field-wide' : 'field'}>
              {f.kind === 'boolean' ? (
                <label className="check" htmlFor={id}>
                  <input id={id} type="checkbox" checked={draft[f.key]} aria-describedby={describedBy} onChange={(e) => set(f.key, e.target.checked)} />
                  {f.label}
                </label>
              ) : (
                <label htmlFor={id}>
                  {f.label}
                  {f.kind === 'integer' && f.unit ? <span className="muted"> ({f.unit})</span> : null}
                </label>
              )}
              {f.kind === 'integer' ? (
                <input
                  id={id}
                  inputMode="numeric"
                  value={draft[f.key]}
                  aria-invalid={err ? true : undefined}
                  aria-describedby={describedBy}
                  onChange={(e) => set(f.key, e.target.value)}
                />
              ) : null}
              {f.kind === 'origins' ? (
                <textarea
                  id={id}
                  rows={3}
                  value={draft.allowedOrigins}
                  aria-invalid={err ? true : undefined}
                  aria-describedby={describedBy}
                  onChange={(e) => set('allowedOrigins', e.target.value)}
                />
              ) : null}
              <p className="help" id={`${id}-help`}>
                {f.help} Default: <span className="default">{defaultText}</span>.
                {f.kind === 'integer' ? ` Allowed: ${f.min.toLocaleString('en')}–${f.max.toLocaleString('en')}.` : ''}
              </p>
              {err ? (
                <p className="field-error" id={`${id}-error`}>
                  {err}
                </p>
              ) : null}
            </div>
          )
        })}
      </div>
      {Object.keys(errors).length > 0 ? (
        <p className="note note-error" role="alert">
          Some settings need fixing before they can be saved.
        </p>
      ) : null}
      <ErrorNote error={error} title="Could not save the settings." />
      {saved ? (
        <p className="note note-ok" role="status">
          {saved}
        </p>
      ) : null}
      <div className="actions">
        <button type="submit" className="button button-primary" disabled={busy}>
          {busy ? 'Saving…' : 'Save settings'}
        </button>
      </div>
    </form>
  )
}
