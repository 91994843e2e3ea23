import { isPresenceChannel, isValidChannel, type Message, type PresenceMember } from '@herald/protocol'
import { useCallback, useEffect, useRef, useState } from 'react'
import { ErrorNote } from '../../components/ErrorNote.js'
import { openLiveChannel, type LiveChannel } from '../../debug/live-channel.js'
import { firstActiveKey, signDebugToken } from '../../debug/sign-token.js'
import type { AppData } from '../AppPage.js'
import { PublishForm } from './PublishForm.js'

const MAX_LOG = 200

interface LogEntry {
  at: number
  message: Message
}

/**
 * Subscribe to a channel through the browser SDK and watch messages live, publish test
 * messages over REST, and see presence members. Tokens are signed in the page with the
 * app's first active key (sub "dashboard", full capability, 10 minutes).
 */
export function DebugConsole({ data }: { data: AppData }) {
  const appId = data.app.id
  const key = firstActiveKey(data.keys)
  const getToken = useCallback(async () => {
    if (!key) throw new Error('This app has no active key; create one on the Keys tab.')
    return signDebugToken(key, { ttlSeconds: 600 })
  }, [key])

  const [channel, setChannel] = useState('debug')
  const [live, setLive] = useState<LiveChannel | null>(null)
  const liveRef = useRef<LiveChannel | null>(null)
  const [status, setStatus] = useState('Not subscribed')
  const [subscribed, setSubscribed] = useState(false)
  const [log, setLog] = useState<LogEntry[]>([])
  const [members, setMembers] = useState<PresenceMember[]>([])
  const [error, setError] = useState<unknown>(null)

  const stop = useCallback(() => {
    liveRef.current?.close()
    liveRef.current = null
    setLive(null)
    setSubscribed(false)
    setMembers([])
    setStatus('Not subscribed')
  }, [])
  // biome-ignore lint/correctness/useExhaustiveDependencies: switching to another app must close the live channel of the previous one
  useEffect(() => stop, [stop, appId])

  const start = (name: string) => {
    stop()
    setError(null)
    if (!key) return setError(new Error('This app has no active key; create one on the Keys tab.'))
    if (!isValidChannel(name)) return setError(new Error('A channel name is 1 to 164 characters of letters, digits and _ - = @ . ; : /'))
    setStatus(`Connecting to ${name}…`)
    const handle = openLiveChannel(
      { appId, channel: name, getToken },
      {
        onMessage: (message) => setLog((l) => [{ at: Date.now(), message }, ...l].slice(0, MAX_LOG)),
        onSubscribed: () => {
          setSubscribed(true)
          setStatus(`Subscribed to ${name}`)
        },
        onPresence: (event) =>
          setMembers((m) => {
            const rest = m.filter((x) => x.clientId !== event.member.clientId)
            return event.action === 'join' ? [...rest, event.member] : rest
          }),
        onMembers: setMembers,
        onError: setError,
        onState: (state, transport, reason) => {
          if (state !== 'connected') setSubscribed(false)
          if (state === 'failed') {
            const hint = /forbidden|origin/i.test(reason) ? ` If the app limits its allowed origins, add ${location.origin} to them.` : ''
            setError(new Error(`The connection failed (${reason}).${hint}`))
          }
          setStatus((s) => (state === 'connected' ? (s.startsWith('Subscribed') ? s : `Connected${transport ? ` (${transport})` : ''}, subscribing to ${name}…`) : `Connection ${state}${reason && state !== 'connecting' ? `: ${reason}` : ''}`))
        },
      },
    )
    liveRef.current = handle
    setLive(handle)
  }

  return (
    <div className="debug-grid">
      <section className="card" aria-labelledby="sub-title">
        <h2 id="sub-title">Subscribe</h2>
        <form
          className="inline-form"
          onSubmit={(e) => {
            e.preventDefault()
            if (live) stop()
            else start(channel.trim())
          }}
        >
          <div className="field grow">
            <label htmlFor="debug-channel">Subscribe to channel</label>
            <input id="debug-channel" value={channel} spellCheck={false} onChange={(e) => setChannel(e.target.value)} disabled={live !== null} />
          </div>
          <button type="submit" className={live ? 'button' : 'button button-primary'}>
            {live ? 'Unsubscribe' : 'Subscribe'}
          </button>
        </form>
        <p className="muted small" role="status" data-testid="debug-status" data-subscribed={subscribed}>
          {status}
        </p>
        {!key ? <p className="note note-error">This app has no active key, so the console cannot sign a token. Create one on the Keys tab.</p> : null}
        <ErrorNote error={error} />
        <div className="log-head">
          <h3>Messages</h3>
          <button type="button" className="button button-small" onClick={() => setLog([])} disabled={log.length === 0}>
            Clear
          </button>
        </div>
        <ol className="message-log" aria-label="Received messages" aria-live="polite" data-testid="message-log">
          {log.length === 0 ? <li className="muted">No messages yet.</li> : null}
          {log.map(({ at, message }) => (
            <li key={`${message.channel}:${message.epoch}:${message.seq}:${message.id}`} className="message">
              <div className="message-meta">
                <span className="badge">#{message.seq}</span>
                <strong className="message-name">{message.name ?? '(no name)'}</strong>
                <span className="muted small">{message.channel}</span>
                {message.clientId ? <span className="muted small">from {message.clientId}</span> : null}
                <time className="muted small" dateTime={new Date(message.ts || at).toISOString()}>
                  {new Date(message.ts || at).toLocaleTimeString('en-GB')}
                </time>
              </div>
              <pre className="message-data">{JSON.stringify(message.data, null, 2)}</pre>
            </li>
          ))}
        </ol>
        {live && isPresenceChannel(live.channel) ? (
          <div className="presence">
            <div className="log-head">
              <h3>Presence members ({members.length})</h3>
              <button type="button" className="button button-small" onClick={() => void live.refreshMembers()}>
                Refresh
              </button>
            </div>
            <ul aria-label="Presence members" data-testid="presence-members">
              {members.map((m) => (
                <li key={m.clientId}>
                  <code>{m.clientId}</code>
                  {m.info ? <span className="muted small"> {JSON.stringify(m.info)}</span> : null}
                </li>
              ))}
            </ul>
          </div>
        ) : (
          <p className="muted small">Presence members show for presence-* channels (the console joins as “dashboard”).</p>
        )}
      </section>
      <PublishForm appId={appId} defaultChannel={live?.channel ?? channel} getToken={key ? getToken : null} />
    </div>
  )
}
