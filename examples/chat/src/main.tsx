import type { TransportName } from '@herald/client'
import { HeraldProvider, useChannel, useConnectionState } from '@herald/react'
import { useEffect, useRef, useState } from 'react'
import { createRoot } from 'react-dom/client'

/** What this chat publishes: `{ text }`; anything else is shown as JSON. */
interface ChatData {
  text?: unknown
}

function Status() {
  const { state, transport, reason } = useConnectionState()
  return (
    <span id="status" data-state={state}>
      {state + (transport ? ` via ${transport}` : '') + (state === 'failed' ? ` (${reason})` : '')}
    </span>
  )
}

function Chat({ channel }: { channel: string }) {
  const { messages, error, publish, subscription } = useChannel<ChatData>(channel, undefined, { rewind: 20, limit: 500 })
  const [text, setText] = useState('')
  const [problem, setProblem] = useState('')
  // After a reconnect that could not recover everything, a notice marks the gap: after the
  // message that was the last one before it ('' when there was none).
  const [gaps, setGaps] = useState<string[]>([])
  const last = useRef('')
  last.current = messages.at(-1)?.id ?? ''
  useEffect(() => subscription?.on('unrecovered', () => setGaps((g) => [...g, last.current])), [subscription])

  const list = useRef<HTMLUListElement>(null)
  const count = messages.length + gaps.length
  useEffect(() => {
    if (count && list.current) list.current.scrollTop = list.current.scrollHeight
  }, [count])

  const notice = (key: string) => (
    <li key={`gap-${key}`} className="notice">
      Some messages may have been missed while offline.
    </li>
  )
  return (
    <>
      <ul id="messages" aria-live="polite" ref={list}>
        {gaps.filter((g) => g === '').map((_, i) => notice(`start-${i}`))}
        {messages.flatMap((m) => [
          <li key={m.id}>
            <span className="who">{m.clientId ?? 'server'}</span>
            {typeof m.data === 'object' && m.data !== null && 'text' in m.data ? String(m.data.text) : JSON.stringify(m.data)}
          </li>,
          ...gaps.filter((g) => g === m.id).map((_, i) => notice(`${m.id}-${i}`)),
        ])}
      </ul>
      <form
        id="form"
        onSubmit={async (e) => {
          e.preventDefault()
          setProblem('')
          try {
            await publish({ text })
            setText('')
          } catch (err) {
            setProblem(`Not sent: ${(err as Error).message}`)
          }
        }}
      >
        <input id="text" autoComplete="off" placeholder="Say something" aria-label="Message" required value={text} onChange={(e) => setText(e.target.value)} />
        <button type="submit">Send</button>
      </form>
      <p id="error" role="alert">
        {problem || error?.message || ''}
      </p>
    </>
  )
}

const params = new URLSearchParams(location.search)
const appId = params.get('appId')
const token = params.get('token') ?? undefined
const channel = params.get('channel') || 'chat'
const transports = params.get('transports')?.split(',') as TransportName[] | undefined

function App() {
  if (!appId) {
    return (
      <>
        <header>
          <h1>Herald chat</h1>
          <span id="status" data-state="disconnected">
            disconnected
          </span>
        </header>
        <p id="error" role="alert">
          Add ?appId=…&amp;token=… to the address.
        </p>
      </>
    )
  }
  return (
    <HeraldProvider url={location.origin} appId={appId} token={token} transports={transports}>
      <header>
        <h1>Herald chat</h1>
        <Status />
      </header>
      <Chat channel={channel} />
    </HeraldProvider>
  )
}

const root = document.getElementById('app')
if (root) createRoot(root).render(<App />)
