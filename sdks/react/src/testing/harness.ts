// Renders components with react-dom in happy-dom, against a client whose WebSocket is the
// browser SDK's fake: a test plays the server with `socket.frame(...)` and reads what the
// hooks made the client send with `socket.ops('subscribe')`.
import { Client, type ClientOptions } from '@herald/client'
import { act, type ReactNode } from 'react'
import { createRoot, type Root } from 'react-dom/client'
import { fakeEnv } from '../../../browser/src/testing/fakes.js'

;(globalThis as { IS_REACT_ACT_ENVIRONMENT?: boolean }).IS_REACT_ACT_ENVIRONMENT = true

export { msg } from '../../../browser/src/testing/fakes.js'

/** A fake environment and a client on it (not connected until `connect()`). */
export function fakeClient(options: Partial<ClientOptions> = {}) {
  const fake = fakeEnv()
  const client = new Client({ url: 'http://herald.test', appId: 'app_1', env: fake.env, autoConnect: false, ...options })
  return { ...fake, client }
}

/** The server accepts the latest socket. */
export function accept(socket: { frame(f: unknown): void }, clientId = 'u1') {
  act(() => socket.frame({ op: 'connected', connectionId: 'c1', clientId, heartbeat: 25 }))
}

/** Mounts `ui`; `rerender` and `unmount` act on the same root. */
export async function render(ui: ReactNode) {
  const container = document.createElement('div')
  document.body.append(container)
  const root: Root = createRoot(container)
  await act(async () => root.render(ui))
  return {
    container,
    text: (testId: string) => container.querySelector(`[data-testid="${testId}"]`)?.textContent ?? null,
    rerender: (next: ReactNode) => act(async () => root.render(next)),
    unmount: async () => {
      await act(async () => root.unmount())
      container.remove()
    },
  }
}

/** Runs `fn` (a server frame, usually) inside act and lets promises and microtasks settle. */
export async function server(fn: () => void) {
  await act(async () => fn())
}
