// Turns per-scenario medians into markdown tables and writes BENCHMARKS.md.
import { execFileSync } from 'node:child_process'
import { readFileSync } from 'node:fs'
import { cpus, totalmem } from 'node:os'

/**
 * One table row comparing Herald with its baseline.
 * @param target optional { text: 'ratio ≤ 1.2', ok: (ratio, herald, base) => boolean }
 * @example row('CPU s / 1M deliveries', 1.8, 1.5, { digits: 2, target: { text: '≤ 1.2 ×', ok: (r) => r <= 1.2 } })
 */
export function row(figure, herald, base, { digits = 1, target } = {}) {
  const ratio = herald / base
  const met = target ? (Number.isFinite(herald) && Number.isFinite(base) ? (target.ok(ratio, herald, base) ? '✅ yes' : '❌ no') : '? n/a') : ''
  return {
    figure,
    herald: fmt(herald, digits),
    base: fmt(base, digits),
    ratio: Number.isFinite(ratio) ? ratio.toFixed(2) : '—',
    target: target?.text ?? '',
    met,
  }
}

export function fmt(v, digits = 1) {
  if (typeof v !== 'number' || Number.isNaN(v)) return '—'
  if (Math.abs(v) >= 10_000) return Math.round(v).toLocaleString('en-US')
  return v.toFixed(digits)
}

/** Markdown table for one scenario. */
export function table(rows, { heraldLabel = 'Herald', baseLabel = 'Baseline' } = {}) {
  const lines = [`| Figure | ${heraldLabel} | ${baseLabel} | Ratio | Target | Met |`, '| --- | ---: | ---: | ---: | --- | --- |']
  for (const r of rows) lines.push(`| ${r.figure} | ${r.herald} | ${r.base} | ${r.ratio} | ${r.target} | ${r.met} |`)
  return lines.join('\n')
}

/** nproc, CPU model, total memory, node version, kernel. */
export function machine() {
  let model = cpus()[0]?.model ?? 'unknown'
  try {
    model = /^model name\s*:\s*(.*)$/m.exec(readFileSync('/proc/cpuinfo', 'utf8'))?.[1] ?? model
  } catch {}
  let nproc = String(cpus().length)
  try {
    nproc = execFileSync('nproc').toString().trim()
  } catch {}
  return { nproc, model, memGiB: (totalmem() / 2 ** 30).toFixed(1), node: process.version, kernel: execFileSync('uname', ['-r']).toString().trim() }
}

/**
 * The whole BENCHMARKS.md text.
 * @param sections [{ title, params, table, notes: string[], runs: object[] }]
 */
export function document({ date, command, build, m, sections, clkTck, durationS }) {
  const out = [
    '# Herald benchmarks',
    '',
    'Written by `npm run bench` (bench/src/run.mjs). Each figure is the **median of the runs**; the ratio is Herald ÷ baseline.',
    'Baselines: a minimal `ws` server that builds one frame string per publish and calls `ws.send(frame)` for every subscriber',
    '(bench/src/baseline-ws.mjs, perMessageDeflate off), and a bare Hono route on @hono/node-server that parses the JSON body',
    'and replies with a small JSON (bench/src/baseline-hono.mjs). Server, load clients and publisher are separate processes on the',
    'same machine, so the load generators compete with the server for the CPUs: compare ratios, not absolute numbers.',
    '',
    `- Date: ${date}`,
    `- Machine: ${m.nproc} CPUs (${m.model}), ${m.memGiB} GiB RAM, Linux ${m.kernel}, Node ${m.node}`,
    `- Command: \`${command}\``,
    `- Build: ${build}`,
    `- Total bench time: ${Math.round(durationS)} s`,
    '',
    'How figures are measured: server CPU = utime + stime from `/proc/<pid>/stat` (fields 14, 15; ' +
      `CLK_TCK ${clkTck}) over the steady window only (first publish of the measured window until the last delivery arrived, ` +
      "after a warm-up); latency = receive time − the publisher's stamp in the payload (`performance.timeOrigin + performance.now()` " +
      'in both processes); "first subscriber" = the earliest receipt of each message over all subscribers; losses = expected deliveries ' +
      '(successful publishes × subscribers of the channel) − received; RSS per connection = (VmRSS after connecting − before) ÷ connections.',
    '',
  ]
  for (const s of sections) {
    out.push(`## ${s.title}`, '', s.params, '', s.table, '')
    for (const n of s.notes ?? []) out.push(`- ${n}`)
    if (s.notes?.length) out.push('')
  }
  return out.join('\n')
}
