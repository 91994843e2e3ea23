import { act, StrictMode } from 'react'
import { describe, expect, it } from 'vitest'
import { fakeEnv } from '../../browser/src/testing/fakes.js'
import { useHerald } from './context.js'
import { HeraldProvider } from './provider.js'
import { accept, fakeClient, render } from './testing/harness.js'
import { useChannel } from './use-channel.js'

let peeked: unknown
function Peek() {
  peeked = useHerald()
  return null
}

function Feed() {
  const { state } = useChannel('chat')
  return <p data-testid="feed">{state}</p>
}

describe('HeraldProvider', () => {
  it('makes one client from its options, connects it on mount and closes it on unmount', async () => {
    const fake = fakeEnv()
    const view = await render(
      <HeraldProvider url="http://herald.test" appId="app_1" token="t0" env={fake.env}>
        <Feed />
      </HeraldProvider>,
    )
    expect(fake.sockets).toHaveLength(1)
    expect(fake.lastSocket().url).toBe('ws://herald.test/v1/apps/app_1/ws?token=t0')
    accept(fake.lastSocket())
    expect(fake.lastSocket().ops('subscribe')).toEqual([expect.objectContaining({ channel: 'chat' })])
    await view.unmount()
    expect(fake.lastSocket().closedWith).toBe(1000)
  })

  it('in StrictMode opens one connection, not two', async () => {
    const fake = fakeEnv()
    const view = await render(
      <StrictMode>
        <HeraldProvider url="http://herald.test" appId="app_1" env={fake.env}>
          <Feed />
        </HeraldProvider>
      </StrictMode>,
    )
    expect(fake.sockets).toHaveLength(1)
    expect(fake.lastSocket().closedWith).toBeUndefined()
    await view.unmount()
    expect(fake.lastSocket().closedWith).toBe(1000)
  })

  it('makes a new client when the appId changes, and closes the old one', async () => {
    const fake = fakeEnv()
    const ui = (appId: string) => (
      <HeraldProvider url="http://herald.test" appId={appId} env={fake.env}>
        <Feed />
      </HeraldProvider>
    )
    const view = await render(ui('app_1'))
    await view.rerender(ui('app_1'))
    expect(fake.sockets).toHaveLength(1)
    await view.rerender(ui('app_2'))
    expect(fake.sockets.map((s) => s.url)).toEqual(['ws://herald.test/v1/apps/app_1/ws', 'ws://herald.test/v1/apps/app_2/ws'])
    expect(fake.sockets[0]?.closedWith).toBe(1000)
    await view.unmount()
  })

  it('asks the latest getToken for a fresh token, without making a new client', async () => {
    const fake = fakeEnv()
    const ui = (token: string) => (
      <HeraldProvider url="http://herald.test" appId="app_1" env={fake.env} getToken={async () => token}>
        <Feed />
      </HeraldProvider>
    )
    const view = await render(ui('first'))
    expect(fake.sockets.map((s) => new URL(s.url).searchParams.get('token'))).toEqual(['first'])
    await view.rerender(ui('second'))
    accept(fake.lastSocket())
    await act(async () => fake.lastSocket().drop(4001, 'token expired'))
    expect(fake.sockets.map((s) => new URL(s.url).searchParams.get('token'))).toEqual(['first', 'second'])
    await view.unmount()
  })

  it('leaves a client it was given open, and gives it to useHerald', async () => {
    const f = fakeClient()
    f.client.connect()
    accept(f.lastSocket())
    const view = await render(
      <HeraldProvider client={f.client}>
        <Peek />
      </HeraldProvider>,
    )
    expect(peeked).toBe(f.client)
    await view.unmount()
    expect(f.client.state).toBe('connected')
    f.client.close()
  })
})
