import { HeraldProvider } from '@herald/react'
import { isValidChannel } from '@herald/protocol'
import { useCallback, useState } from 'react'
import { ErrorNote } from '../../components/ErrorNote.js'
import { useLiveChannel } from '../../debug/live-channel.js'
import { firstActiveKey, signDebugToken } from '../../debug/sign-token.js'
import type { AppData } from '../AppPage.js'
import { PublishForm } from './PublishForm.js'

const NO_KEY = 'This app has no active key; create one on the Keys tab.'

/**
 * Subscribe to a channel through `@herald/react` and watch messages live, publish test
 * messages over REST, and see presence members. Tokens are signed in the page with the
 * app's first active key (sub "dashboard", full capability, 10 minutes). Each subscribe
 * opens a client (a `HeraldProvider`); unsubscribing closes it.
 */
export function DebugConsole({ data }: { data: AppData }) {
  const appId = data.app.id
  const key = firstActiveKey(data.keys)
  const getToken = useCallback(async () => {
    if (!key) throw new Error(NO_KEY)
    return signDebugToken(key, { ttlSeconds: 600 })
  }, [key])

  const [channel, setChannel] = useState('debug')
  const [subscription, setSubscription] = useState<{ appId: string; channel: string } | null>(null)
  const [error, setError] = useState<unknown>(null)
  // Another app's subscription is over: its provider unmounts, which closes its client.
  const live = subscription?.appId === appId ? subscription.channel : null
  const setLive = (channel: string | null) => setSubscription(channel === null ? null : { appId, channel })

  const start = (name: string) => {
    setError(null)
    if (!key) return setError(new Error(NO_KEY))
    if (!isValidChannel(name)) return setError(new Error('A channel name is 1 to 164 characters of letters, digits and _ - = @ . ; : /'))
    setLive(name)
  }

  return (
    <div className="debug-grid">
      <section className="card" aria-labelledby="sub-title">
        <h2 id="sub-title">Subscribe</h2>
        <form
          className="inline-form"
          onSubmit={(e) => {
            e.preventDefault()
            if (live) setLive(null)
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
        {!key ? <p className="note note-error">This app has no active key, so the console cannot sign a token. Create one on the Keys tab.</p> : null}
        {live ? (
          <HeraldProvider url={location.origin} appId={appId} getToken={getToken}>
            <LiveChannel channel={live} />
          </HeraldProvider>
        ) : (
          <>
            <p className="muted small" role="status" data-testid="debug-status" data-subscribed={false}>
              Not subscribed
            </p>
            <ErrorNote error={error} />
            <p className="muted small">Presence members show for presence-* channels (the console joins as “dashboard”).</p>
          </>
        )}
      </section>
      <PublishForm appId={appId} defaultChannel={live ?? channel} getToken={key ? getToken : null} />
    </div>
  )
}

/** The status, message log and presence members of the subscribed channel. */
function LiveChannel({ channel }: { channel: string }) {
  const { status, subscribed, log, clear, members, refreshMembers, error } = useLiveChannel(channel)
  return (
    <>
      <p className="muted small" role="status" data-testid="debug-status" data-subscribed={subscribed}>
        {status}
      </p>
      <ErrorNote error={error} />
      <div className="log-head">
        <h3>Messages</h3>
        <button type="button" className="button button-small" onClick={clear} disabled={log.length === 0}>
          Clear
        </button>
      </div>
      <ol className="message-log" aria-label="Received messages" aria-live="polite" data-testid="message-log">
        {log.length === 0 ? <li className="muted">No messages yet.</li> : null}
        {log.map((message) => (
          <li key={`${message.channel}:${message.epoch}:${message.seq}:${message.id}`} className="message">
            <div className="message-meta">
              <span className="badge">#{message.seq}</span>
              <strong className="message-name">{message.name ?? '(no name)'}</strong>
              <span className="muted small">{message.channel}</span>
              {message.clientId ? <span className="muted small">from {message.clientId}</span> : null}
              <time className="muted small" dateTime={new Date(message.ts).toISOString()}>
                {new Date(message.ts).toLocaleTimeString('en-GB')}
              </time>
            </div>
            <pre className="message-data">{JSON.stringify(message.data, null, 2)}</pre>
          </li>
        ))}
      </ol>
      {members ? (
        <div className="presence">
          <div className="log-head">
            <h3>Presence members ({members.length})</h3>
            <button type="button" className="button button-small" onClick={refreshMembers}>
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
    </>
  )
}
