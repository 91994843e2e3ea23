import { useState } from 'react'
import type { App } from '../../api/types.js'
import { ErrorNote } from '../../components/ErrorNote.js'
import { useSession } from '../../lib/api-context.js'
import { draftsKey, MAX_WEBHOOKS, newWebhookDraft, toWebhookDrafts, validateWebhooks, WEBHOOK_EVENTS, type WebhookDraft } from '../../settings/webhooks-spec.js'

/** The app's webhooks: a URL and its events per row, validated, saved as the `webhooks` setting; and a test button. */
export function WebhooksForm({ app, onSaved }: { app: App; onSaved(app: App): void }) {
  const { api } = useSession()
  const [rows, setRows] = useState<WebhookDraft[]>(() => toWebhookDrafts(app.settings.webhooks))
  const [errors, setErrors] = useState<Record<number, { url?: string; events?: string }>>({})
  const [error, setError] = useState<unknown>(null)
  const [note, setNote] = useState<string | null>(null)
  const [busy, setBusy] = useState(false)
  const edit = (i: number, change: Partial<WebhookDraft>) => {
    setRows((rs) => rs.map((r, j) => (j === i ? { ...r, ...change } : r)))
    setNote(null)
  }
  // The test goes to the saved webhooks: offered only when the form shows what is saved.
  const dirty = draftsKey(rows) !== draftsKey(toWebhookDrafts(app.settings.webhooks))

  return (
    <form
      className="card"
      aria-labelledby="webhooks-title"
      noValidate
      onSubmit={async (e) => {
        e.preventDefault()
        setError(null)
        setNote(null)
        const result = validateWebhooks(rows)
        if (!result.ok) {
          setErrors(result.errors)
          if (result.message) setError(new Error(result.message))
          return
        }
        setErrors({})
        setBusy(true)
        try {
          const updated = await api.updateApp(app.id, { settings: { webhooks: result.webhooks } })
          setRows(toWebhookDrafts(updated.settings.webhooks))
          onSaved(updated)
          setNote('Webhooks saved.')
        } catch (err) {
          setError(err)
        } finally {
          setBusy(false)
        }
      }}
    >
      <h2 id="webhooks-title">Webhooks</h2>
      <p className="help">
        Herald POSTs events to these URLs, signed with the app's oldest live key (<code>X-Pusher-Key</code>, <code>X-Pusher-Signature</code>), and retries for
        at least 5 minutes. Link-local addresses (169.254.0.0/16, fe80::/10) are refused.
      </p>
      {rows.length === 0 ? <p className="muted">No webhooks yet.</p> : null}
      <ol className="webhook-rows">
        {rows.map((row, i) => {
          const id = `webhook-${i}`
          const err = errors[i]
          return (
            <li key={row.id} className="webhook-row" aria-label={`Webhook ${i + 1}`}>
              <div className="field field-wide">
                <label htmlFor={`${id}-url`}>URL</label>
                <input
                  id={`${id}-url`}
                  value={row.url}
                  placeholder="https://api.example.com/herald/webhooks"
                  aria-invalid={err?.url ? true : undefined}
                  aria-describedby={err?.url ? `${id}-url-error` : undefined}
                  onChange={(e) => edit(i, { url: e.target.value })}
                />
                {err?.url ? (
                  <p className="field-error" id={`${id}-url-error`}>
                    {err.url}
                  </p>
                ) : null}
              </div>
              <fieldset className="webhook-events">
                <legend>Events</legend>
                <label className="check">
                  <input type="checkbox" checked={row.all} onChange={(e) => edit(i, { all: e.target.checked })} />
                  All events
                </label>
                {row.all
                  ? null
                  : WEBHOOK_EVENTS.map((ev) => (
                      <label key={ev.name} className="check" title={ev.help}>
                        <input
                          type="checkbox"
                          checked={row.events.includes(ev.name)}
                          onChange={(e) => edit(i, { events: e.target.checked ? [...row.events, ev.name] : row.events.filter((n) => n !== ev.name) })}
                        />
                        <code>{ev.name}</code>
                      </label>
                    ))}
                {err?.events ? <p className="field-error">{err.events}</p> : null}
              </fieldset>
              <div className="actions">
                <button type="button" className="button button-small" onClick={() => setRows((rs) => rs.filter((_, j) => j !== i))}>
                  Remove webhook {i + 1}
                </button>
              </div>
            </li>
          )
        })}
      </ol>
      <ErrorNote error={error} title="Could not save the webhooks." />
      {note ? (
        <p className="note note-ok" role="status">
          {note}
        </p>
      ) : null}
      <div className="actions">
        <button type="button" className="button" disabled={rows.length >= MAX_WEBHOOKS} onClick={() => setRows((rs) => [...rs, newWebhookDraft()])}>
          Add webhook
        </button>
        <button type="submit" className="button button-primary" disabled={busy}>
          {busy ? 'Saving…' : 'Save webhooks'}
        </button>
        <button
          type="button"
          className="button"
          disabled={busy || app.settings.webhooks.length === 0 || dirty}
          title={dirty ? 'Save the webhooks first' : 'Sends channel_occupied + channel_vacated of herald-webhook-test to each saved webhook'}
          onClick={async () => {
            setError(null)
            setNote(null)
            try {
              const n = await api.testWebhooks(app.id)
              setNote(`Test event queued for ${n} webhook${n === 1 ? '' : 's'}: see the deliveries below.`)
            } catch (err) {
              setError(err)
            }
          }}
        >
          Send test event
        </button>
      </div>
    </form>
  )
}
