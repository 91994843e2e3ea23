import { describe, expect, it } from 'vitest'
import { HeraldProvider } from './provider.js'
import { accept, fakeClient, render, server } from './testing/harness.js'
import { useConnectionState } from './use-connection-state.js'

function Status() {
  const { state, transport, reason } = useConnectionState()
  return (
    <p data-testid="status">
      {state}|{transport ?? ''}|{reason}
    </p>
  )
}

describe('useConnectionState', () => {
  it('follows the client: connecting, connected over a transport, disconnected with the reason', async () => {
    const f = fakeClient()
    const view = await render(
      <HeraldProvider client={f.client}>
        <Status />
      </HeraldProvider>,
    )
    expect(view.text('status')).toBe('disconnected||')
    await server(() => f.client.connect())
    expect(view.text('status')).toBe('connecting||connect')
    accept(f.lastSocket())
    expect(view.text('status')).toBe('connected|websocket|websocket')
    await server(() => f.client.close())
    expect(view.text('status')).toBe('disconnected||closed')
    await view.unmount()
  })
})
