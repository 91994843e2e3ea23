import type { PresenceMember } from '@herald/protocol'
import { afterEach, describe, expect, it } from 'vitest'
import { newTestAppId, Recorder, waitFor } from './broker.contract.js'
import type { PresenceManager } from './presence.js'

/** One node's presence manager, and how that node gets a channel's presence events. */
export interface PresenceNode {
  presence: PresenceManager
  /** This node wants the channel's presence events (Redis: its broker subscribes the channel). */
  listen(appId: string, channel: string): Promise<void>
  close(): Promise<void>
}

/** How the conformance suite gets presence managers of one driver. */
export interface PresenceFactory {
  /** A started node; with a `shared` driver every call is one more node of the same cluster. */
  start(rec: Recorder): Promise<PresenceNode>
  shared: boolean
}

/**
 * The behaviour every {@link PresenceManager} driver must show, run once per driver.
 *
 * @example
 * presenceContract('memory', { shared: false, start: async (rec) => { const p = new MemoryPresence(); await p.start(rec); return { presence: p, listen: async () => {}, close: () => p.close() } } })
 */
export function presenceContract(name: string, factory: PresenceFactory): void {
  describe(`PresenceManager contract: ${name}`, () => {
    const started: PresenceNode[] = []
    afterEach(async () => {
      await Promise.all(started.splice(0).map((n) => n.close()))
    })

    async function node(): Promise<PresenceNode & { rec: Recorder }> {
      const rec = new Recorder()
      const n = await factory.start(rec)
      started.push(n)
      return { ...n, rec }
    }

    async function twoNodes(): Promise<[PresenceNode & { rec: Recorder }, PresenceNode & { rec: Recorder }]> {
      const a = await node()
      return [a, factory.shared ? await node() : a]
    }

    it('emits presence join on a clientId’s first connection and leave on its last', async () => {
      const [a, b] = await twoNodes()
      const app = newTestAppId()
      const ch = 'presence-room'
      await a.listen(app, ch)
      if (b !== a) await b.listen(app, ch)
      await a.presence.add(app, ch, 'conn-1', { clientId: 'u1', info: { name: 'Ann' } })
      await b.presence.add(app, ch, 'conn-2', { clientId: 'u1', info: { name: 'Ann' } })
      await b.presence.add(app, ch, 'conn-3', { clientId: 'u2' })
      for (const n of [a, b]) await waitFor(() => expect(n.rec.presenceOf(app, ch)).toEqual(['join:u1', 'join:u2']))
      const join = a.rec.presence.find((p) => p.appId === app)!.event
      expect(join).toEqual({ channel: ch, action: 'join', member: { clientId: 'u1', info: { name: 'Ann' } } })
      const members = await a.presence.members(app, ch)
      expect(members.map((m) => m.clientId).sort()).toEqual(['u1', 'u2'])
      expect(members.find((m) => m.clientId === 'u1')).toEqual({ clientId: 'u1', info: { name: 'Ann' } })

      await a.presence.remove(app, ch, 'conn-1')
      await b.presence.remove(app, ch, 'conn-1') // already gone: no event
      await b.presence.remove(app, ch, 'conn-3')
      for (const n of [a, b]) await waitFor(() => expect(n.rec.presenceOf(app, ch)).toEqual(['join:u1', 'join:u2', 'leave:u2']))
      expect((await b.presence.members(app, ch)).map((m) => m.clientId)).toEqual(['u1'])
      await b.presence.remove(app, ch, 'conn-2')
      for (const n of [a, b]) {
        await waitFor(() => expect(n.rec.presenceOf(app, ch)).toEqual(['join:u1', 'join:u2', 'leave:u2', 'leave:u1']))
      }
      const leave = a.rec.presence.filter((p) => p.appId === app).at(-1)!.event
      expect(leave).toEqual({ channel: ch, action: 'leave', member: { clientId: 'u1', info: { name: 'Ann' } } })
      expect(await a.presence.members(app, ch)).toEqual([])
    })

    it('treats a repeated add of a connection as one, and a new clientId on it as leave + join', async () => {
      const { presence, rec, listen } = await node()
      const app = newTestAppId()
      const ch = 'presence-swap'
      await listen(app, ch)
      await presence.add(app, ch, 'conn', { clientId: 'u1' })
      await presence.add(app, ch, 'conn', { clientId: 'u1' })
      await presence.add(app, ch, 'conn', { clientId: 'u2', info: { v: 2 } })
      await waitFor(() => expect(rec.presenceOf(app, ch)).toEqual(['join:u1', 'leave:u1', 'join:u2']))
      expect(await presence.members(app, ch)).toEqual([{ clientId: 'u2', info: { v: 2 } }])
      await presence.remove(app, ch, 'conn')
      await waitFor(() => expect(rec.presenceOf(app, ch)).toEqual(['join:u1', 'leave:u1', 'join:u2', 'leave:u2']))
      expect(await presence.members(app, ch)).toEqual([])
    })

    it('keeps apps apart even for the same channel name', async () => {
      const [a, b] = await twoNodes()
      const appA = newTestAppId()
      const appB = newTestAppId()
      await b.listen(appA, 'shared')
      await b.listen(appB, 'shared')
      await a.presence.add(appA, 'shared', 'c1', { clientId: 'only-a' })
      expect(await a.presence.members(appB, 'shared')).toEqual([])
      await waitFor(() => expect(b.rec.presenceOf(appA, 'shared')).toEqual(['join:only-a']))
      // a marker on the other app: once it arrived, anything of appA's would have too
      await a.presence.add(appB, 'shared', 'c2', { clientId: 'marker' })
      await waitFor(() => expect(b.rec.presenceOf(appB, 'shared')).toEqual(['join:marker']))
    })

    it('removeApp drops the app’s presence, and nothing of other apps', async () => {
      const { presence } = await node()
      const gone = newTestAppId()
      const kept = newTestAppId()
      await presence.add(gone, 'presence-c', 'conn', { clientId: 'u' })
      await presence.add(kept, 'presence-c', 'conn', { clientId: 'v' })
      await presence.removeApp(gone)
      expect(await presence.members(gone, 'presence-c')).toEqual([])
      expect(await presence.members(kept, 'presence-c')).toEqual([{ clientId: 'v' }] satisfies PresenceMember[])
    })
  })
}
