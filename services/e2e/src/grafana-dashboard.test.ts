import { readFileSync } from 'node:fs'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { z } from 'zod'
import { http } from './support/attack.js'
import { startHerald, type HeraldProcess } from './support/herald.js'

/**
 * docs/grafana/herald.json imports into Grafana (its dashboard JSON model, as the
 * `@grafana/schema` Dashboard / Panel / VariableModel types define the required fields) and
 * every PromQL query in it names metrics that a running Herald's /metrics really exposes.
 */

const DASHBOARD = new URL('../../../docs/grafana/herald.json', import.meta.url)

/**
 * Names the dashboard uses that other work of this wave adds to /metrics (issue 14, webhooks).
 * While one is not exposed yet it is only checked to be a well-formed name; once /metrics has
 * it, it is checked like every other.
 */
const ADDED_ELSEWHERE = new Set(['herald_webhook_queue_depth'])

// biome-ignore lint/suspicious/noTemplateCurlyInString: ${datasource} is Grafana's variable syntax, not a template literal
const Datasource = z.object({ type: z.literal('prometheus'), uid: z.literal('${datasource}') }).strict()
const GridPos = z
  .object({ h: z.number().int().min(1), w: z.number().int().min(1).max(24), x: z.number().int().min(0).max(23), y: z.number().int().min(0) })
  .refine((g) => g.x + g.w <= 24, 'gridPos: x + w must be at most 24')
const Target = z.object({ refId: z.string().min(1), datasource: Datasource, expr: z.string().min(1), legendFormat: z.string().optional() }).passthrough()
const FieldConfig = z.object({ defaults: z.object({ unit: z.string().min(1) }).passthrough(), overrides: z.array(z.unknown()) })
const DataPanel = z
  .object({
    id: z.number().int().positive(),
    type: z.enum(['timeseries', 'stat']),
    title: z.string().min(1),
    description: z.string().min(1),
    datasource: Datasource,
    gridPos: GridPos,
    fieldConfig: FieldConfig,
    options: z.record(z.string(), z.unknown()),
    targets: z.array(Target).min(1),
  })
  .passthrough()
  .refine((p) => new Set(p.targets.map((t) => t.refId)).size === p.targets.length, 'refIds unique within a panel')
const RowPanel = z
  .object({
    id: z.number().int().positive(),
    type: z.literal('row'),
    title: z.string().min(1),
    collapsed: z.boolean(),
    gridPos: GridPos,
    panels: z.array(z.unknown()),
  })
  .passthrough()
const Panel = z.union([RowPanel, DataPanel])
const Variable = z.discriminatedUnion('type', [
  z.object({ type: z.literal('datasource'), name: z.string().min(1), query: z.literal('prometheus') }).passthrough(),
  z
    .object({
      type: z.literal('query'),
      name: z.string().min(1),
      datasource: Datasource,
      query: z.object({ query: z.string().min(1), refId: z.string() }).passthrough(),
      includeAll: z.boolean(),
      allValue: z.string().optional(),
    })
    .passthrough(),
])
const Dashboard = z
  .object({
    title: z.string().min(1),
    uid: z.string().regex(/^[A-Za-z0-9_-]{1,40}$/),
    schemaVersion: z.number().int().min(36),
    version: z.number().int(),
    editable: z.boolean(),
    graphTooltip: z.union([z.literal(0), z.literal(1), z.literal(2)]),
    time: z.object({ from: z.string(), to: z.string() }),
    refresh: z.string(),
    tags: z.array(z.string()),
    annotations: z.object({ list: z.array(z.object({ name: z.string(), type: z.string() }).passthrough()) }),
    templating: z.object({ list: z.array(Variable) }),
    panels: z.array(Panel).min(1),
  })
  .passthrough()

type Dashboard = z.infer<typeof Dashboard>
type DataPanel = z.infer<typeof DataPanel>

const FUNCTION_OR_KEYWORD = new Set(['by', 'without', 'on', 'ignoring', 'group_left', 'group_right', 'bool', 'and', 'or', 'unless', 'offset', 'inf', 'nan'])

/**
 * The metric names a PromQL expression selects: identifiers that are not functions,
 * keywords, label names in `by (…)` / `{…}`, ranges or Grafana `$variables`.
 *
 * @example
 * metricNames('sum by (via) (rate(herald_messages_published_total{app=~"$app"}[$__rate_interval]))') // ['herald_messages_published_total']
 */
function metricNames(expr: string): string[] {
  const bare = expr
    .replace(/"(?:[^"\\]|\\.)*"/g, '""')
    .replace(/\{[^}]*\}/g, ' ')
    .replace(/\[[^\]]*\]/g, ' ')
    .replace(/\b(by|without|on|ignoring|group_left|group_right)\s*\([^)]*\)/g, ' ')
    .replace(/\$\w+/g, ' ')
    .replace(/(?<![A-Za-z0-9_:])\d[\w.]*/g, ' ')
  const names: string[] = []
  for (const m of bare.matchAll(/[A-Za-z_:][A-Za-z0-9_:]*(?=\s*(\()?)/g)) {
    if (m[1] !== undefined || FUNCTION_OR_KEYWORD.has(m[0].toLowerCase())) continue
    names.push(m[0])
  }
  return names
}

/** Every series name /metrics can carry: from its `# TYPE` lines, with histogram and summary suffixes. */
function exposedNames(text: string): Set<string> {
  const names = new Set<string>()
  for (const m of text.matchAll(/^# TYPE (\S+) (\S+)$/gm)) {
    const [, name, type] = m as unknown as [string, string, string]
    names.add(name)
    if (type === 'histogram') for (const s of ['_bucket', '_sum', '_count']) names.add(name + s)
    if (type === 'summary') for (const s of ['_sum', '_count']) names.add(name + s)
  }
  return names
}

let h: HeraldProcess
let dashboard: Dashboard
beforeAll(async () => {
  dashboard = Dashboard.parse(JSON.parse(readFileSync(DASHBOARD, 'utf8')))
  h = await startHerald()
})
afterAll(async () => {
  await h?.stop()
})

const dataPanels = () => dashboard.panels.filter((p): p is DataPanel => p.type !== 'row')
const allQueries = () => [
  ...dataPanels().flatMap((p) => p.targets.map((t) => ({ where: `panel "${p.title}" ${t.refId}`, expr: t.expr }))),
  ...dashboard.templating.list.flatMap((v) =>
    v.type === 'query' ? [{ where: `variable $${v.name}`, expr: v.query.query.replace(/^label_values\(([^,]+),.*\)$/, '$1') }] : [],
  ),
]

describe('docs/grafana/herald.json', () => {
  it('is a Grafana dashboard model: unique panel ids, panels inside the 24-column grid and not overlapping', () => {
    const ids = dashboard.panels.map((p) => p.id)
    expect(new Set(ids).size).toBe(ids.length)
    const cells = new Map<string, string>()
    for (const p of dashboard.panels) {
      const g = p.gridPos
      for (let x = g.x; x < g.x + g.w; x++) {
        for (let y = g.y; y < g.y + g.h; y++) {
          const other = cells.get(`${x},${y}`)
          expect(other, `"${p.title}" overlaps "${other}"`).toBeUndefined()
          cells.set(`${x},${y}`, p.title)
        }
      }
    }
    for (const name of ['datasource', 'instance', 'app']) expect(dashboard.templating.list.map((v) => v.name)).toContain(name)
  })

  it('queries only metrics that /metrics exposes', async () => {
    const res = await http(h.url, 'GET', '/metrics')
    expect(res.status).toBe(200)
    const exposed = exposedNames(res.text)
    const queries = allQueries()
    expect(queries.length).toBeGreaterThan(10)
    for (const { where, expr } of queries) {
      const names = metricNames(expr)
      expect(names.length, `${where}: ${expr}`).toBeGreaterThan(0)
      for (const name of names) {
        if (ADDED_ELSEWHERE.has(name) && !exposed.has(name)) expect(name).toMatch(/^herald_[a-z_]+$/)
        else expect(exposed.has(name), `${where} uses ${name}, which /metrics does not expose`).toBe(true)
      }
    }
  })

  it('covers what an operator watches: traffic per transport, drops, webhooks, and the runtime', () => {
    const used = new Set(allQueries().flatMap((q) => metricNames(q.expr)))
    for (const name of [
      'herald_connections',
      'herald_subscriptions',
      'herald_messages_published_total',
      'herald_messages_delivered',
      'herald_slow_consumer_drops_total',
      'herald_webhook_queue_depth',
      'nodejs_eventloop_lag_p99_seconds',
      'process_cpu_user_seconds_total',
      'process_resident_memory_bytes',
      'nodejs_heap_size_used_bytes',
      'nodejs_gc_duration_seconds_sum',
    ]) {
      expect(used.has(name), name).toBe(true)
    }
    const byTransport = dataPanels()
      .filter((p) => p.targets.some((t) => /by \(transport\)/.test(t.expr)))
      .map((p) => p.title)
    expect(byTransport).toEqual(expect.arrayContaining(['Connections by transport', 'Subscriptions by transport']))
  })

  it('reads metric names out of PromQL', () => {
    expect(metricNames('sum by (via) (rate(herald_messages_published_total{app=~"$app", via!="x"}[$__rate_interval]))')).toEqual([
      'herald_messages_published_total',
    ])
    expect(metricNames('a_total / on(instance) group_left b_bytes > bool 0.5')).toEqual(['a_total', 'b_bytes'])
    expect(metricNames('max(nodejs_eventloop_lag_p99_seconds{instance=~"$instance"}) offset 5m')).toEqual(['nodejs_eventloop_lag_p99_seconds'])
  })
})
