import type { ReactNode } from 'react'
import { StrictMode } from 'react'
import { describe, expect, it, vi } from 'vitest'
import { HeraldProvider } from './provider.js'
import { accept, fakeClient, msg, render, server } from './testing/harness.js'
import { useChannel, type ChannelMessage } from './use-channel.js'

interface Chat {
  text: string
}

function Feed({
  name,
  limit,
  rewind,
  onMessage,
  id = 'feed',
}: {
  name: string | null
  limit?: number
  rewind?: number
  onMessage?: (m: ChannelMessage<Chat>) => void
  id?: string
}) {
  const { messages, state, error } = useChannel<Chat>(name, onMessage, { limit, rewind })
  return (
    <p data-testid={id} data-state={state}>
      {state}|{messages.map((m) => m.data.text).join(',')}|{error?.code ?? ''}
    </p>
  )
}

function connected(children: ReactNode) {
  const f = fakeClient()
  f.client.connect()
  accept(f.lastSocket())
  return { ...f, ui: <HeraldProvider client={f.client}>{children}</HeraldProvider> }
}

describe('useChannel', () => {
  it('subscribes on mount and shows the latest messages, oldest first, bounded by limit', async () => {
    const f = connected(<Feed name="chat" limit={2} />)
    const view = await render(f.ui)
    const ws = f.lastSocket()
    expect(ws.ops('subscribe')).toEqual([{ op: 'subscribe', channel: 'chat', ref: 1 }])
    expect(view.text('feed')).toBe('pending||')
    await server(() => ws.frame({ op: 'subscribed', channel: 'chat', epoch: 'e1', seq: 0 }))
    expect(view.text('feed')).toBe('subscribed||')
    for (const [seq, text] of [
      [1, 'a'],
      [2, 'b'],
      [3, 'c'],
    ] as const)
      await server(() => ws.frame({ op: 'message', ...msg('chat', 'e1', seq, { text }) }))
    expect(view.text('feed')).toBe('subscribed|b,c|')
    await view.unmount()
  })

  it('calls the latest onMessage with each new message', async () => {
    const first = vi.fn()
    const second = vi.fn()
    const f = connected(<Feed name="chat" onMessage={first} />)
    const view = await render(f.ui)
    const ws = f.lastSocket()
    await server(() => ws.frame({ op: 'subscribed', channel: 'chat', epoch: 'e1', seq: 0 }))
    await server(() => ws.frame({ op: 'message', ...msg('chat', 'e1', 1, { text: 'a' }) }))
    await view.rerender(
      <HeraldProvider client={f.client}>
        <Feed name="chat" onMessage={second} />
      </HeraldProvider>,
    )
    await server(() => ws.frame({ op: 'message', ...msg('chat', 'e1', 2, { text: 'b' }) }))
    expect(first.mock.calls.map(([m]) => m.data.text)).toEqual(['a'])
    expect(second.mock.calls.map(([m]) => m.data.text)).toEqual(['b'])
    expect(ws.ops('subscribe')).toHaveLength(1) // a new callback is not a new subscription
    await view.unmount()
  })

  it('sends rewind with the first subscribe', async () => {
    const f = connected(<Feed name="chat" rewind={20} />)
    const view = await render(f.ui)
    expect(f.lastSocket().ops('subscribe')).toEqual([{ op: 'subscribe', channel: 'chat', rewind: 20, ref: 1 }])
    await view.unmount()
  })

  it('shares one subscription between components and unsubscribes when the last one unmounts', async () => {
    const f = connected(null)
    const both = (a: boolean, b: boolean) => (
      <HeraldProvider client={f.client}>
        {a ? <Feed id="a" name="chat" /> : null}
        {b ? <Feed id="b" name="chat" /> : null}
      </HeraldProvider>
    )
    const view = await render(both(true, true))
    const ws = f.lastSocket()
    expect(ws.ops('subscribe')).toHaveLength(1)
    await server(() => ws.frame({ op: 'subscribed', channel: 'chat', epoch: 'e1', seq: 0 }))
    await server(() => ws.frame({ op: 'message', ...msg('chat', 'e1', 1, { text: 'hi' }) }))
    expect([view.text('a'), view.text('b')]).toEqual(['subscribed|hi|', 'subscribed|hi|'])
    await view.rerender(both(false, true))
    expect(ws.ops('unsubscribe')).toHaveLength(0)
    await server(() => ws.frame({ op: 'message', ...msg('chat', 'e1', 2, { text: 'there' }) }))
    expect(view.text('b')).toBe('subscribed|hi,there|')
    await view.rerender(both(false, false))
    expect(ws.ops('unsubscribe')).toEqual([{ op: 'unsubscribe', channel: 'chat', ref: 2 }])
    // a later component subscribes afresh
    await view.rerender(both(true, false))
    expect(ws.ops('subscribe')).toHaveLength(2)
    await view.unmount()
  })

  it('a component mounting later on a shared channel sees the messages kept so far', async () => {
    const f = connected(null)
    const ui = (late: boolean) => (
      <HeraldProvider client={f.client}>
        <Feed id="a" name="chat" />
        {late ? <Feed id="b" name="chat" /> : null}
      </HeraldProvider>
    )
    const view = await render(ui(false))
    const ws = f.lastSocket()
    await server(() => ws.frame({ op: 'subscribed', channel: 'chat', epoch: 'e1', seq: 0 }))
    await server(() => ws.frame({ op: 'message', ...msg('chat', 'e1', 1, { text: 'early' }) }))
    await view.rerender(ui(true))
    expect(view.text('b')).toBe('subscribed|early|')
    await view.unmount()
  })

  it('in StrictMode subscribes once and does not unsubscribe', async () => {
    const f = connected(null)
    const view = await render(
      <StrictMode>
        <HeraldProvider client={f.client}>
          <Feed name="chat" />
        </HeraldProvider>
      </StrictMode>,
    )
    const ws = f.lastSocket()
    expect(ws.ops('subscribe')).toHaveLength(1)
    expect(ws.ops('unsubscribe')).toHaveLength(0)
    await server(() => ws.frame({ op: 'subscribed', channel: 'chat', epoch: 'e1', seq: 0 }))
    await server(() => ws.frame({ op: 'message', ...msg('chat', 'e1', 1, { text: 'strict' }) }))
    expect(view.text('feed')).toBe('subscribed|strict|')
    await view.unmount()
    expect(ws.ops('unsubscribe')).toHaveLength(1)
  })

  it('moves to the new channel when the name changes, and subscribes to nothing for null', async () => {
    const f = connected(null)
    const ui = (name: string | null) => (
      <HeraldProvider client={f.client}>
        <Feed name={name} />
      </HeraldProvider>
    )
    const view = await render(ui(null))
    const ws = f.lastSocket()
    expect(view.text('feed')).toBe('idle||')
    expect(ws.ops('subscribe')).toHaveLength(0)
    await view.rerender(ui('a'))
    await view.rerender(ui('b'))
    expect(ws.ops('subscribe').map((s) => s.channel)).toEqual(['a', 'b'])
    expect(ws.ops('unsubscribe').map((s) => s.channel)).toEqual(['a'])
    await view.unmount()
  })

  it('reports an invalid channel name without subscribing, and a refused subscribe', async () => {
    const f = connected(
      <>
        <Feed id="bad" name="no spaces" />
        <Feed id="denied" name="private-x" />
      </>,
    )
    const view = await render(f.ui)
    const ws = f.lastSocket()
    expect(view.text('bad')).toBe('pending||bad_request')
    expect(ws.ops('subscribe').map((s) => s.channel)).toEqual(['private-x'])
    await server(() => ws.frame({ op: 'error', ref: ws.ops('subscribe')[0].ref, code: 'forbidden', message: 'no subscribe on private-x' }))
    expect(view.text('denied')).toBe('pending||forbidden')
    await view.unmount()
  })

  it('goes back to pending while the connection is down, and resumes where it left off', async () => {
    const f = connected(<Feed name="chat" />)
    const view = await render(f.ui)
    await server(() => f.lastSocket().frame({ op: 'subscribed', channel: 'chat', epoch: 'e1', seq: 0 }))
    await server(() => f.lastSocket().frame({ op: 'message', ...msg('chat', 'e1', 1, { text: 'a' }) }))
    await server(() => f.lastSocket().drop(1001))
    expect(view.text('feed')).toBe('pending|a|')
    await server(() => f.client.connect())
    accept(f.lastSocket())
    expect(f.lastSocket().ops('subscribe')).toEqual([{ op: 'subscribe', channel: 'chat', since: { epoch: 'e1', seq: 1 }, ref: 1 }])
    await server(() => f.lastSocket().frame({ op: 'subscribed', channel: 'chat', epoch: 'e1', seq: 1 }))
    expect(view.text('feed')).toBe('subscribed|a|')
    await view.unmount()
    f.client.close()
  })

  it('throws a clear error outside a provider', async () => {
    const spy = vi.spyOn(console, 'error').mockImplementation(() => {})
    await expect(render(<Feed name="chat" />)).rejects.toThrow(/HeraldProvider/)
    spy.mockRestore()
  })
})
