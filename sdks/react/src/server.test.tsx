// @vitest-environment node
import { renderToString } from 'react-dom/server'
import { describe, expect, it } from 'vitest'
import { fakeEnv } from '../../browser/src/testing/fakes.js'
import { HeraldProvider } from './provider.js'
import { useChannel } from './use-channel.js'
import { useConnectionState } from './use-connection-state.js'
import { usePresence } from './use-presence.js'

function Page() {
  const { state } = useConnectionState()
  const feed = useChannel('chat')
  const room = usePresence('presence-room')
  return <p>{`${state}|${feed.state}|${feed.messages.length}|${room.members.length}`}</p>
}

describe('server rendering', () => {
  it('renders the empty state and opens nothing', () => {
    const fake = fakeEnv()
    const html = renderToString(
      <HeraldProvider url="http://herald.test" appId="app_1" env={fake.env}>
        <Page />
      </HeraldProvider>,
    )
    expect(html).toBe('<p>disconnected|pending|0|0</p>')
    expect(fake.sockets).toHaveLength(0)
    expect(fake.requests).toHaveLength(0)
  })
})
