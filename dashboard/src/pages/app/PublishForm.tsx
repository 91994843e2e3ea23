import { isValidChannel } from '@herald/protocol'
import { useState } from 'react'
import { requestJson } from '../../api/http.js'
import { ErrorNote } from '../../components/ErrorNote.js'

/** Publishes a test message over REST (`POST /v1/apps/:appId/messages`) with a signed token; the data must be JSON. */
export function PublishForm({ appId, defaultChannel, getToken }: { appId: string; defaultChannel: string; getToken: (() => Promise<string>) | null }) {
  const [channel, setChannel] = useState<string | null>(null)
  const [name, setName] = useState('test')
  const [json, setJson] = useState('{\n  "text": "hello from the dashboard"\n}')
  const [jsonError, setJsonError] = useState<string | null>(null)
  const [error, setError] = useState<unknown>(null)
  const [result, setResult] = useState<string | null>(null)
  const [busy, setBusy] = useState(false)
  const target = channel ?? defaultChannel
  return (
    <section className="card" aria-labelledby="pub-title">
      <h2 id="pub-title">Publish a test message</h2>
      <form
        className="stack"
        noValidate
        onSubmit={async (e) => {
          e.preventDefault()
          setError(null)
          setResult(null)
          let data: unknown
          try {
            data = JSON.parse(json)
            setJsonError(null)
          } catch (err) {
            setJsonError(`Data is not valid JSON: ${err instanceof Error ? err.message : String(err)}`)
            document.getElementById('debug-data')?.focus()
            return
          }
          if (!isValidChannel(target)) return setError(new Error('A channel name is 1 to 164 characters of letters, digits and _ - = @ . ; : /'))
          if (!getToken) return setError(new Error('This app has no active key; create one on the Keys tab.'))
          setBusy(true)
          try {
            const token = await getToken()
            const reply = await requestJson<{ messages: { channel: string; seq: number }[] }>(
              'POST',
              `/v1/apps/${encodeURIComponent(appId)}/messages`,
              { authorization: `Bearer ${token}` },
              name.trim() ? { channel: target, name: name.trim(), data } : { channel: target, data },
            )
            const m = reply.messages[0]
            setResult(m ? `Published to ${m.channel} as #${m.seq}.` : 'Published.')
          } catch (err) {
            setError(err)
          } finally {
            setBusy(false)
          }
        }}
      >
        <div className="field">
          <label htmlFor="debug-pub-channel">Publish to channel</label>
          <input id="debug-pub-channel" value={target} spellCheck={false} onChange={(e) => setChannel(e.target.value)} />
        </div>
        <div className="field">
          <label htmlFor="debug-name">Event name (optional)</label>
          <input id="debug-name" value={name} spellCheck={false} onChange={(e) => setName(e.target.value)} />
        </div>
        <div className="field">
          <label htmlFor="debug-data">Data (JSON)</label>
          <textarea
            id="debug-data"
            className="mono"
            rows={6}
            spellCheck={false}
            value={json}
            aria-invalid={jsonError ? true : undefined}
            aria-describedby={jsonError ? 'debug-data-error' : undefined}
            onChange={(e) => {
              setJson(e.target.value)
              setJsonError(null)
            }}
          />
          {jsonError ? (
            <p className="field-error" id="debug-data-error" role="alert">
              {jsonError}
            </p>
          ) : null}
        </div>
        <ErrorNote error={error} title="Publish failed." />
        {result ? (
          <p className="note note-ok" role="status">
            {result}
          </p>
        ) : null}
        <div className="actions">
          <button type="submit" className="button button-primary" disabled={busy}>
            {busy ? 'Publishing…' : 'Publish'}
          </button>
        </div>
      </form>
    </section>
  )
}
