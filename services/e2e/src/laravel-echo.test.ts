import Echo from 'laravel-echo'
import PusherPackage from 'pusher-js'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { createApp, publish, startHerald, type CreatedApp, type HeraldProcess } from './support/herald.js'
import { pusherServer, startAuthServer, type AuthServer } from './support/pusher.js'
import { until } from './support/ws-client.js'

/**
 * Laravel Echo on pusher-js, configured as a Laravel app points it at a self-hosted Pusher
 * server, listening to a private channel authorized by the app's `/broadcasting/auth` (here the
 * `pusher` library's authorizeChannel, as Laravel's PusherBroadcaster signs it).
 */

let h: HeraldProcess
let app: CreatedApp
let auth: AuthServer

beforeAll(async () => {
  h = await startHerald()
  app = await createApp(h)
  auth = await startAuthServer(pusherServer(h.port, app), app, { forge: (channel) => channel === 'private-admin' })
})
afterAll(async () => {
  await auth?.close()
  await h?.stop()
})

function echo(): Echo<'pusher'> {
  return new Echo({
    broadcaster: 'pusher',
    key: app.keyId,
    cluster: 'any',
    wsHost: '127.0.0.1',
    wsPort: h.port,
    forceTLS: false,
    enabledTransports: ['ws'],
    authEndpoint: `${auth.url}/broadcasting/auth`,
    Pusher: PusherPackage,
  })
}

describe('Laravel Echo', () => {
  it('listens to a private channel through the app auth endpoint and gets the broadcast event', async () => {
    const e = echo()
    try {
      const got: unknown[] = []
      let subscribed = false
      const channel = e.private('orders.7')
      channel.subscribed(() => (subscribed = true))
      channel.listen('OrderShipped', (payload: unknown) => got.push(payload))
      await until(() => subscribed, 15_000, 'Echo subscribed')
      expect(auth.requests).toContain('private-orders.7')
      // What Laravel's PusherBroadcaster sends: the event class as the name, the public properties as data.
      await publish(h, app, { channel: 'private-orders.7', name: 'App\\Events\\OrderShipped', data: { order: { id: 7 }, socket: null } })
      await until(() => got.length === 1, 15_000, 'OrderShipped')
      expect(got).toEqual([{ order: { id: 7 }, socket: null }])
      expect(e.socketId()).toMatch(/^\d+\.\d+$/)
    } finally {
      e.disconnect()
    }
  })

  it('reports a refused authorization through Echo error()', async () => {
    const e = echo()
    try {
      const errors: Array<{ status?: number }> = []
      e.private('admin').error((err: { status?: number }) => errors.push(err))
      await until(() => errors.length === 1, 15_000, 'Echo error')
      expect(errors[0]).toMatchObject({ status: 401 })
    } finally {
      e.disconnect()
    }
  })
})
