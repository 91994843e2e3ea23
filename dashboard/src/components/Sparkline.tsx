/** Chart geometry, in SVG user units. */
const W = 300
const H = 80
const PAD = 4

/**
 * A small line chart drawn as inline SVG (no library, CSP-safe: attributes only).
 * `data-points` and `data-last` expose what is drawn, for tests and tooling.
 */
export function Sparkline({ values, label, windowSize, axisLabel }: { values: number[]; label: string; windowSize: number; axisLabel: string }) {
  const max = Math.max(1, ...values)
  const step = (W - PAD * 2) / Math.max(1, windowSize - 1)
  // Right-align: the newest point sits on the right edge, older ones scroll left.
  const x0 = W - PAD - (values.length - 1) * step
  const coords = values.map((v, i) => [x0 + i * step, H - PAD - (v / max) * (H - PAD * 2)] as const)
  const line = coords.map(([x, y]) => `${x.toFixed(1)},${y.toFixed(1)}`).join(' ')
  const first = coords[0]
  const peak = Math.max(0, ...values)
  const last = coords[coords.length - 1]
  const area = first && last ? `${first[0].toFixed(1)},${H - PAD} ${line} ${last[0].toFixed(1)},${H - PAD}` : ''
  return (
    <div className="sparkline-wrap">
      <svg
        className="sparkline"
        viewBox={`0 0 ${W} ${H}`}
        preserveAspectRatio="none"
        role="img"
        aria-label={`${label}: ${values.length} points, latest ${values[values.length - 1] ?? 0}, peak ${peak}`}
        data-points={values.length}
        data-last={values[values.length - 1] ?? 0}
      >
        <line className="sparkline-base" x1={PAD} x2={W - PAD} y1={H - PAD} y2={H - PAD} />
        {area ? <polygon className="sparkline-area" points={area} /> : null}
        {line ? <polyline className="sparkline-line" points={line} fill="none" /> : null}
      </svg>
      <div className="sparkline-axis" aria-hidden="true">
        <span>{axisLabel}</span>
        <span>peak {peak.toLocaleString('en', { maximumFractionDigits: 1 })}</span>
        <span>now</span>
      </div>
    </div>
  )
}
