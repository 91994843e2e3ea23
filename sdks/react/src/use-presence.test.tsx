import { describe, expect, it } from 'vitest'
import { HeraldProvider } from './provider.js'
import { accept, fakeClient, render, server } from './testing/harness.js'
import { useChannel } from './use-channel.js'
import { usePresence } from './use-presence.js'

function Members({ name }: { name: string }) {
  const { members, synced, error } = usePresence(name)
  return (
    <p data-testid="members">
      {synced ? 'synced' : 'syncing'}|{members.map((m) => `${m.clientId}${m.info ? JSON.stringify(m.info) : ''}`).join(',')}|{error?.code ?? ''}
    </p>
  )
}

let refreshRoom = () => {}
function Refreshing() {
  refreshRoom = usePresence('presence-room').refresh
  return <Members name="presence-room" />
}

function Room() {
  const { state } = useChannel('presence-room')
  return <span data-testid="room">{state}</span>
}

const member = (clientId: string, info?: Record<string, unknown>) => (info ? { clientId, info } : { clientId })

async function setup(ui: React.ReactNode = <Members name="presence-room" />) {
  const f = fakeClient()
  f.client.connect()
  accept(f.lastSocket())
  const view = await render(<HeraldProvider client={f.client}>{ui}</HeraldProvider>)
  const ws = f.lastSocket()
  await server(() => ws.frame({ op: 'subscribed', channel: 'presence-room', epoch: 'e1', seq: 0 }))
  return { ...f, ws, view }
}

describe('usePresence', () => {
  it('fetches the members once subscribed, then follows joins and leaves, one entry per clientId', async () => {
    const { ws, view } = await setup()
    const [ask] = ws.ops('members')
    expect(ask).toMatchObject({ op: 'members', channel: 'presence-room' })
    expect(view.text('members')).toBe('syncing||')
    await server(() => ws.frame({ op: 'members', channel: 'presence-room', members: [member('u1'), member('bob')], ref: ask.ref }))
    expect(view.text('members')).toBe('synced|u1,bob|')
    await server(() => ws.frame({ op: 'presence', channel: 'presence-room', action: 'join', member: member('carol', { name: 'Carol' }) }))
    await server(() => ws.frame({ op: 'presence', channel: 'presence-room', action: 'join', member: member('carol', { name: 'Carol' }) }))
    expect(view.text('members')).toBe('synced|u1,bob,carol{"name":"Carol"}|')
    await server(() => ws.frame({ op: 'presence', channel: 'presence-room', action: 'leave', member: member('bob') }))
    expect(view.text('members')).toBe('synced|u1,carol{"name":"Carol"}|')
    await view.unmount()
    expect(ws.ops('unsubscribe')).toEqual([expect.objectContaining({ channel: 'presence-room' })])
  })

  it('applies the joins and leaves that arrive while the list is being fetched', async () => {
    const { ws, view } = await setup()
    const [ask] = ws.ops('members')
    await server(() => ws.frame({ op: 'presence', channel: 'presence-room', action: 'leave', member: member('bob') }))
    await server(() => ws.frame({ op: 'presence', channel: 'presence-room', action: 'join', member: member('dave') }))
    // the list was read before bob left and dave joined
    await server(() => ws.frame({ op: 'members', channel: 'presence-room', members: [member('u1'), member('bob')], ref: ask.ref }))
    expect(view.text('members')).toBe('synced|u1,dave|')
    await view.unmount()
  })

  it('fetches the list again on refresh()', async () => {
    const { ws, view } = await setup(<Refreshing />)
    await server(() => ws.frame({ op: 'members', channel: 'presence-room', members: [member('u1'), member('bob')], ref: ws.ops('members')[0].ref }))
    await server(() => refreshRoom())
    const asks = ws.ops('members')
    expect(asks).toHaveLength(2)
    await server(() => ws.frame({ op: 'members', channel: 'presence-room', members: [member('u1')], ref: asks[1].ref }))
    expect(view.text('members')).toBe('synced|u1|')
    await view.unmount()
  })

  it('fetches the list again after a reconnect', async () => {
    const { client, ws, view, lastSocket } = await setup()
    await server(() => ws.frame({ op: 'members', channel: 'presence-room', members: [member('u1'), member('bob')], ref: ws.ops('members')[0].ref }))
    await server(() => ws.drop(1001))
    await server(() => client.connect())
    accept(lastSocket())
    const ws2 = lastSocket()
    await server(() => ws2.frame({ op: 'subscribed', channel: 'presence-room', epoch: 'e1', seq: 0 }))
    await server(() => ws2.frame({ op: 'members', channel: 'presence-room', members: [member('u1')], ref: ws2.ops('members')[0].ref }))
    expect(view.text('members')).toBe('synced|u1|') // bob left while we were away
    await view.unmount()
    client.close()
  })

  it('shares the subscription with useChannel on the same channel', async () => {
    const { ws, view } = await setup(
      <>
        <Room />
        <Members name="presence-room" />
      </>,
    )
    expect(ws.ops('subscribe')).toHaveLength(1)
    expect(view.text('room')).toBe('subscribed')
    await view.unmount()
    expect(ws.ops('unsubscribe')).toHaveLength(1)
  })

  it('reports a refused member list, and a channel that is not a presence channel', async () => {
    const { ws, view } = await setup(
      <>
        <Members name="presence-room" />
        <div data-testid="other">
          <Members name="chat" />
        </div>
      </>,
    )
    await server(() => ws.frame({ op: 'error', code: 'forbidden', message: 'no presence on presence-room', ref: ws.ops('members')[0].ref }))
    expect(view.container.querySelectorAll('[data-testid="members"]')[0]?.textContent).toBe('syncing||forbidden')
    expect(view.container.querySelectorAll('[data-testid="members"]')[1]?.textContent).toBe('syncing||bad_request')
    expect(ws.ops('subscribe').map((s) => s.channel)).toEqual(['presence-room'])
    await view.unmount()
  })
})
