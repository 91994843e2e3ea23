import type { Message } from '@herald/node'

/** A line on stdout (results: what a script reads). */
export function out(line: string): void {
  process.stdout.write(`${line}\n`)
}

/** A line on stderr (progress and errors: what a person reads). */
export function note(line: string): void {
  process.stderr.write(`${line}\n`)
}

/** One JSON value on one line of stdout. */
export function outJson(value: unknown): void {
  out(JSON.stringify(value))
}

/**
 * A message as one readable line: channel, `#seq`, name and client when set, then the data as JSON.
 *
 * @example
 * formatMessage({ channel: 'chat', seq: 3, name: 'greeting', data: { text: 'hi' }, … }) // 'chat #3 greeting {"text":"hi"}'
 */
export function formatMessage(m: Message): string {
  const parts = [m.channel, `#${m.seq}`]
  if (m.name !== undefined) parts.push(m.name)
  if (m.clientId !== undefined) parts.push(`(${m.clientId})`)
  parts.push(JSON.stringify(m.data))
  return parts.join(' ')
}

/**
 * Rows as left-aligned columns under a header.
 *
 * @example
 * table(['id', 'name'], [['app_1', 'shop']]) // 'id     name\napp_1  shop'
 */
export function table(header: string[], rows: string[][]): string {
  const widths = header.map((h, i) => Math.max(h.length, ...rows.map((r) => (r[i] ?? '').length)))
  const line = (cells: string[]) =>
    cells
      .map((c, i) => (i === cells.length - 1 ? c : c.padEnd(widths[i]!)))
      .join('  ')
      .trimEnd()
  return [line(header), ...rows.map(line)].join('\n')
}

/** `export NAME='value'` lines a shell can `eval` (values single-quoted). */
export function shellExports(vars: Record<string, string>): string {
  return Object.entries(vars)
    .map(([k, v]) => `export ${k}='${v.replaceAll("'", "'\\''")}'`)
    .join('\n')
}
