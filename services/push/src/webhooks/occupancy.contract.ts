import { randomBytes } from 'node:crypto'
import { describe, expect, it } from 'vitest'
import type { Occupancy } from './occupancy.js'

/** The behaviour every {@link Occupancy} driver keeps on one node. */
export function describeOccupancyContract(driver: string, open: () => Promise<Occupancy>): void {
  describe(`Occupancy contract (${driver})`, () => {
    const app = () => 'app_' + randomBytes(4).toString('hex')

    it('reports the 0→1 edge on enter and the 1→0 edge on leave, with the count', async () => {
      const o = await open()
      const a = app()
      expect(await o.enter(a, 'c')).toEqual({ edge: true, count: 1 })
      expect(await o.enter(a, 'c')).toEqual({ edge: false, count: 2 })
      expect(await o.leave(a, 'c')).toEqual({ edge: false, count: 1 })
      expect(await o.leave(a, 'c')).toEqual({ edge: true, count: 0 })
      expect(await o.leave(a, 'c')).toEqual({ edge: false, count: 0 })
      expect(await o.enter(a, 'c')).toEqual({ edge: true, count: 1 })
      await o.stop()
    })

    it('keeps keys and apps apart', async () => {
      const o = await open()
      const [a, b] = [app(), app()]
      expect((await o.enter(a, 'c')).edge).toBe(true)
      expect((await o.enter(a, 'c\nuser')).edge).toBe(true)
      expect((await o.enter(b, 'c')).edge).toBe(true)
      expect((await o.leave(a, 'c')).edge).toBe(true)
      expect(await o.leave(b, 'c')).toEqual({ edge: true, count: 0 })
      await o.stop()
    })

    it('resolves calls in the order they were made', async () => {
      const o = await open()
      const a = app()
      const order: string[] = []
      await Promise.all([
        o.enter(a, 'c').then((r) => order.push(`enter ${r.count}`)),
        o.leave(a, 'c').then((r) => order.push(`leave ${r.count}`)),
        o.enter(a, 'c').then((r) => order.push(`enter ${r.count}`)),
      ])
      expect(order).toEqual(['enter 1', 'leave 0', 'enter 1'])
      await o.stop()
    })
  })
}
