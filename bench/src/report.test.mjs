import { describe, expect, it } from 'vitest'
import { machine, row, table } from './report.mjs'

describe('report', () => {
  it('computes ratios and whether a target is met', () => {
    const r = row('CPU', 1.5, 1.0, { digits: 2, target: { text: '≤ 1.2 ×', ok: (x) => x <= 1.2 } })
    expect(r).toMatchObject({ herald: '1.50', base: '1.00', ratio: '1.50', met: '❌ no' })
    expect(row('rps', 30_000, 40_000, { target: { text: '≥ 0.6', ok: (x) => x >= 0.6 } }).met).toBe('✅ yes')
    expect(row('x', NaN, 1, { target: { text: 't', ok: () => true } })).toMatchObject({ herald: '—', ratio: '—', met: '? n/a' })
  })

  it('renders a markdown table with the given column labels', () => {
    const md = table([row('Losses', 0, 0, { digits: 0 })], { heraldLabel: 'SSE', baseLabel: 'WS' })
    expect(md.split('\n')[0]).toBe('| Figure | SSE | WS | Ratio | Target | Met |')
    expect(md.split('\n')[2]).toBe('| Losses | 0 | 0 | — |  |  |')
  })

  it('describes the machine', () => {
    const m = machine()
    expect(Number(m.nproc)).toBeGreaterThan(0)
    expect(m.node).toBe(process.version)
    expect(Number(m.memGiB)).toBeGreaterThan(0)
  })
})
