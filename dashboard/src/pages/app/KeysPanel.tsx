import { useState } from 'react'
import type { AppKey } from '../../api/types.js'
import { ConfirmDialog } from '../../components/ConfirmDialog.js'
import { CopyButton } from '../../components/CopyButton.js'
import { ErrorNote } from '../../components/ErrorNote.js'
import { useSession } from '../../lib/api-context.js'
import { formatDate } from '../../lib/format.js'
import type { AppData } from '../AppPage.js'

/** The app's keys: create, reveal and copy a secret, revoke with confirmation. */
export function KeysPanel({ data, reload }: { data: AppData; reload(): Promise<void> }) {
  const { api } = useSession()
  const [label, setLabel] = useState('')
  const [createError, setCreateError] = useState<unknown>(null)
  const [creating, setCreating] = useState(false)
  const [created, setCreated] = useState<string | null>(null)
  const [revoking, setRevoking] = useState<AppKey | null>(null)
  const [revokeError, setRevokeError] = useState<unknown>(null)
  const [revokeBusy, setRevokeBusy] = useState(false)
  const appId = data.app.id

  return (
    <div className="stack">
      <p className="note note-info">
        Revoking a key at once invalidates every token it signed and closes every connection that used them. To rotate without downtime: create a new key, move
        your publishers and token signers to it, then revoke the old one.
      </p>
      <form
        className="card inline-form"
        onSubmit={async (e) => {
          e.preventDefault()
          setCreating(true)
          setCreateError(null)
          try {
            const key = await api.createKey(appId, label.trim() || undefined)
            setLabel('')
            setCreated(key.keyId)
            await reload()
          } catch (err) {
            setCreateError(err)
          } finally {
            setCreating(false)
          }
        }}
      >
        <div className="field grow">
          <label htmlFor="new-key-label">Label (optional)</label>
          <input id="new-key-label" value={label} maxLength={200} onChange={(e) => setLabel(e.target.value)} placeholder="e.g. backend 2026" />
        </div>
        <button type="submit" className="button button-primary" disabled={creating}>
          {creating ? 'Creating…' : 'Create key'}
        </button>
        <ErrorNote error={createError} title="Could not create the key." />
      </form>
      {created ? (
        <p className="note note-ok" role="status">
          Key <code>{created}</code> created.
        </p>
      ) : null}
      <ul className="key-list" aria-label="Keys">
        {data.keys.map((key) => (
          <KeyRow
            key={key.keyId}
            appKey={key}
            onRevoke={() => {
              setRevokeError(null)
              setRevoking(key)
            }}
          />
        ))}
      </ul>
      <ConfirmDialog
        open={revoking !== null}
        title="Revoke this key?"
        confirmLabel="Revoke key"
        danger
        busy={revokeBusy}
        error={revokeError}
        onCancel={() => setRevoking(null)}
        onConfirm={async () => {
          if (!revoking) return
          setRevokeBusy(true)
          try {
            await api.revokeKey(appId, revoking.keyId)
            setRevoking(null)
            await reload()
          } catch (err) {
            setRevokeError(err)
          } finally {
            setRevokeBusy(false)
          }
        }}
      >
        <p>
          Revoke <code>{revoking?.keyId}</code>
          {revoking?.label ? ` (${revoking.label})` : ''}?
        </p>
        <p>Every token signed with it stops working now and the connections that used them are closed. This cannot be undone.</p>
      </ConfirmDialog>
    </div>
  )
}

function KeyRow({ appKey, onRevoke }: { appKey: AppKey; onRevoke(): void }) {
  const [shown, setShown] = useState(false)
  const revoked = Boolean(appKey.revokedAt)
  const secretId = `secret-${appKey.keyId}`
  return (
    <li className={revoked ? 'card key-item revoked' : 'card key-item'} data-key-id={appKey.keyId}>
      <div className="key-head">
        <div>
          <code className="key-id">{appKey.keyId}</code>
          {appKey.label ? <span className="key-label">{appKey.label}</span> : <span className="muted small">no label</span>}
        </div>
        <span className={revoked ? 'badge badge-revoked' : 'badge badge-active'}>{revoked ? 'Revoked' : 'Active'}</span>
      </div>
      <dl className="key-facts">
        <div>
          <dt>Created</dt>
          <dd>{formatDate(appKey.createdAt)}</dd>
        </div>
        {revoked ? (
          <div>
            <dt>Revoked</dt>
            <dd>{formatDate(appKey.revokedAt)}</dd>
          </div>
        ) : null}
      </dl>
      <div className="secret-row">
        <span className="muted small">Secret</span>
        <code className="secret" id={secretId}>
          {shown ? appKey.secret : '•'.repeat(24)}
        </code>
      </div>
      <div className="actions">
        <button type="button" className="button button-small" aria-controls={secretId} aria-expanded={shown} onClick={() => setShown(!shown)}>
          {shown ? 'Hide secret' : 'Reveal secret'}
        </button>
        <CopyButton text={appKey.secret} label="Copy secret" />
        {!revoked ? (
          <button type="button" className="button button-small button-danger" onClick={onRevoke}>
            Revoke…
          </button>
        ) : null}
      </div>
    </li>
  )
}
