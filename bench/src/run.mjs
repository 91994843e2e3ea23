// `npm run bench`: runs each scenario against Herald and its baseline, `--runs` times each,
// and writes the medians and ratios to BENCHMARKS.md.
//   node bench/src/run.mjs [--quick] [--scenario=fanout,burst] [--runs=3] [--subscribers=5000]
//     [--rate=20] [--duration=10] [--connections=10000] [--channels=500] [--concurrency=16]
//     [--warmup=2] [--settle=5] [--payload=100] [--cpu-prof=DIR] [--out=BENCHMARKS.md]
import { execFileSync } from 'node:child_process'
import { existsSync, statSync, writeFileSync } from 'node:fs'
import { fileURLToPath } from 'node:url'
import { parseArgs } from 'node:util'
import { median } from './histogram.mjs'
import { CLK_TCK } from './proc-stat.mjs'
import { document, machine, table } from './report.mjs'
import { HERALD_MAIN } from './servers.mjs'
import burst from './scenarios/burst.mjs'
import channels from './scenarios/channels.mjs'
import fanout from './scenarios/fanout.mjs'
import idle from './scenarios/idle.mjs'
import rest from './scenarios/rest.mjs'
import transports from './scenarios/transports.mjs'
import cluster from './scenarios/cluster.mjs'
import { durableBurst, durableChannels, durableFanout } from './scenarios/durable.mjs'

const ALL = [idle, fanout, channels, burst, rest, transports, cluster, durableFanout, durableBurst, durableChannels]
const NUMERIC = ['runs', 'nodes', 'subscribers', 'rate', 'duration', 'connections', 'channels', 'concurrency', 'warmup', 'settle', 'payload']

const { values } = parseArgs({
  options: {
    quick: { type: 'boolean', default: false },
    scenario: { type: 'string' },
    'cpu-prof': { type: 'string' },
    out: { type: 'string' },
    ...Object.fromEntries(NUMERIC.map((k) => [k, { type: 'string' }])),
  },
})

const overrides = {}
for (const k of NUMERIC) if (values[k] !== undefined) overrides[k] = Number(values[k])
const runs = overrides.runs ?? 3
const wanted = values.scenario ? values.scenario.split(',') : ALL.map((s) => s.name)
const scenarios = wanted.map((n) => ALL.find((s) => s.name === n || (n === 'sse' && s.name === 'transports')) ?? fail(`unknown scenario ${n}`))
const out = values.out ?? fileURLToPath(new URL('../../BENCHMARKS.md', import.meta.url))

function fail(msg) {
  console.error(msg)
  process.exit(2)
}

if (!existsSync(HERALD_MAIN)) console.warn(`warning: ${HERALD_MAIN} does not exist (run npm run build); Herald variants will fail`)
const builtAt = () => (existsSync(HERALD_MAIN) ? statSync(HERALD_MAIN).mtime.toISOString() : 'missing')
const buildAtStart = builtAt()
let commit = 'unknown'
try {
  commit = execFileSync('git', ['log', '-1', '--format=%h %s'], { cwd: fileURLToPath(new URL('../..', import.meta.url)) })
    .toString()
    .trim()
    .slice(0, 100)
} catch {}

/** Median of every numeric field; sums of count maps (closes, statuses) across runs. */
function summarise(results) {
  const okRuns = results.filter((r) => !r.error)
  const med = {}
  const totals = {}
  for (const r of okRuns)
    for (const [k, v] of Object.entries(r)) {
      if (typeof v === 'object' && v) {
        totals[k] ??= {}
        for (const [kk, vv] of Object.entries(v)) totals[k][kk] = (totals[k][kk] ?? 0) + vv
      }
    }
  for (const k of Object.keys(okRuns[0] ?? {})) if (typeof okRuns[0][k] === 'number') med[k] = median(okRuns.map((r) => r[k]))
  return { med, totals, errors: results.filter((r) => r.error).map((r) => r.error) }
}

function notesFor(name, s, runsOf) {
  const notes = []
  for (const e of new Set(s.errors)) notes.push(`${name}: run failed: ${e.split('\n')[0]}`)
  const c = s.totals.closes
  if (c && Object.keys(c).length) notes.push(`${name}: unexpected closes over all runs (code: count): ${JSON.stringify(c)}`)
  for (const key of ['publishStatuses', 'statuses']) {
    const st = s.totals[key]
    const bad = st && Object.entries(st).filter(([code, n]) => n && code !== '2xx' && !(Number(code) >= 200 && Number(code) < 300))
    if (bad?.length) notes.push(`${name}: non-2xx publish replies over all runs (status: count, 0 = network error): ${JSON.stringify(Object.fromEntries(bad))}`)
  }
  if (s.med.errors) notes.push(`${name}: client-side errors (median per run): ${s.med.errors}`)
  if (s.med.connectFailed) notes.push(`${name}: connections that failed to subscribe (median per run): ${s.med.connectFailed}`)
  const perRun = runsOf.filter((r) => !r.error)
  const key = ['cpuPer1M', 'rps', 'rssPerConn'].find((k) => perRun[0] && k in perRun[0])
  if (key)
    notes.push(
      `${name}: ${key} per run: ${perRun.map((r) => (key === 'rssPerConn' ? (r[key] / 1024).toFixed(1) + ' KiB' : r[key].toFixed(key === 'rps' ? 0 : 2))).join(', ')}`,
    )
  return notes
}

const t0 = Date.now()
const sections = []
for (const sc of scenarios) {
  const o = { ...(values.quick ? sc.quick : sc.defaults), ...overrides, cpuProfDir: values['cpu-prof'] }
  const tScenario = Date.now()
  const variants = sc.variants(o)
  const results = Object.fromEntries(variants.map((v) => [v.name, []]))
  console.log(`\n== ${sc.title(o)} (${runs} runs)`)
  for (let run = 0; run < runs; run++) {
    const order = run % 2 ? [...variants].reverse() : variants // alternate order against drift
    for (const v of order) {
      let server
      try {
        server = await v.start()
        const r = await v.measure(server)
        results[v.name].push(r)
        const show = Object.fromEntries(
          Object.entries(r)
            .filter(([, x]) => typeof x === 'number')
            .map(([k, x]) => [k, Math.round(x * 100) / 100]),
        )
        console.log(`  run ${run + 1} ${v.name}: ${JSON.stringify(show)}`)
      } catch (e) {
        results[v.name].push({ error: String(e?.stack ?? e) })
        console.log(`  run ${run + 1} ${v.name}: FAILED ${String(e?.message ?? e).split('\n')[0]}`)
      } finally {
        await server?.stop()
      }
    }
  }
  const summaries = Object.fromEntries(Object.entries(results).map(([k, rs]) => [k, summarise(rs)]))
  const medians = Object.fromEntries(Object.entries(summaries).map(([k, s]) => [k, s.med]))
  const notes = [...(sc.note ? [sc.note] : []), ...Object.entries(summaries).flatMap(([k, s]) => notesFor(k, s, results[k]))]
  const params = `Parameters: ${Object.entries(o)
    .filter(([k, x]) => x !== undefined && k !== 'cpuProfDir')
    .map(([k, x]) => `${k}=${x}`)
    .join(', ')}, runs=${runs}`
  const tbl = table(sc.rows(medians), { heraldLabel: sc.heraldLabel, baseLabel: sc.baseLabel })
  console.log(tbl)
  console.log(`(${sc.name}: ${Math.round((Date.now() - tScenario) / 1000)} s)`)
  sections.push({ title: sc.title(o), params, table: tbl, notes })
}

const command = 'npm run bench' + (process.argv.length > 2 ? ' -- ' + process.argv.slice(2).join(' ') : '')
let build = `git HEAD ${commit}; services/push/dist/main.js built ${buildAtStart}`
if (builtAt() !== buildAtStart) build += ` — **rebuilt during the run (${builtAt()}): the figures mix two builds**`
const md = document({ date: new Date().toISOString(), command, build, m: machine(), sections, clkTck: CLK_TCK, durationS: (Date.now() - t0) / 1000 })
writeFileSync(out, md)
console.log(`\nwrote ${out} in ${Math.round((Date.now() - t0) / 1000)} s`)
