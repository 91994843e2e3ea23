import { describe, expect, it } from 'vitest'
import { atTurnEnd } from './turn.js'

const nextTurn = () => new Promise<void>((resolve) => setImmediate(resolve))

describe('atTurnEnd', () => {
  it('runs the commits of a turn before its writes, whatever the order they were queued in', async () => {
    const order: string[] = []
    atTurnEnd('write', () => order.push('write 1'))
    atTurnEnd('commit', () => order.push('commit 1'))
    atTurnEnd('write', () => order.push('write 2'))
    atTurnEnd('commit', () => order.push('commit 2'))
    expect(order).toEqual([]) // nothing before the end of the turn
    await nextTurn()
    expect(order).toEqual(['commit 1', 'commit 2', 'write 1', 'write 2'])
  })

  it('runs the microtasks a commit leaves (acknowledgements) before the writes', async () => {
    const order: string[] = []
    atTurnEnd('commit', () => {
      order.push('commit')
      atTurnEnd('write', () => order.push('write'))
      void Promise.resolve().then(() => order.push('acknowledge'))
    })
    await nextTurn()
    expect(order).toEqual(['commit', 'acknowledge', 'write'])
  })

  it('writes what a commit delivers in the same turn; a commit queued at the end of a turn waits for the next', async () => {
    const order: string[] = []
    let turn = 0
    atTurnEnd('commit', () => {
      order.push(`commit in turn ${turn}`)
      atTurnEnd('write', () => order.push(`its write in turn ${turn}`))
      atTurnEnd('commit', () => order.push(`late commit in turn ${turn}`))
    })
    await nextTurn()
    turn = 1
    await nextTurn()
    expect(order).toEqual(['commit in turn 0', 'its write in turn 0', 'late commit in turn 1'])
  })
})
