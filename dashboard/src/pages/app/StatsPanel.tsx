import { useRef, useState } from 'react'
import type { AppStats } from '../../api/types.js'
import { ErrorNote } from '../../components/ErrorNote.js'
import { Sparkline } from '../../components/Sparkline.js'
import { useSession } from '../../lib/api-context.js'
import { formatNumber } from '../../lib/format.js'
import { usePolling } from '../../lib/use-polling.js'
import { addSample, type StatsPoint } from '../../stats/rates.js'

const INTERVAL_MS = 2000
/** Five minutes of 2 s samples. */
const WINDOW = 150

const SERIES: { key: Exclude<keyof StatsPoint, 'ts'>; label: string; id: string }[] = [
  { key: 'connections', label: 'Connections', id: 'connections' },
  { key: 'channels', label: 'Channels', id: 'channels' },
  { key: 'publishedPerSecond', label: 'Published/s', id: 'published' },
  { key: 'deliveredPerSecond', label: 'Delivered/s', id: 'delivered' },
]

/** Polls the app's stats every 2 s and charts the last five minutes. */
export function StatsPanel({ appId }: { appId: string }) {
  const { api } = useSession()
  const [points, setPoints] = useState<StatsPoint[]>([])
  const [latest, setLatest] = useState<AppStats | null>(null)
  const [error, setError] = useState<unknown>(null)
  const previous = useRef<AppStats | null>(null)
  usePolling(
    async (live) => {
      try {
        const sample = await api.stats(appId)
        if (!live()) return
        const prev = previous.current
        previous.current = sample
        setPoints((p) => addSample(p, prev, sample, WINDOW))
        setLatest(sample)
        setError(null)
      } catch (err) {
        if (live()) setError(err)
      }
    },
    INTERVAL_MS,
    [api, appId],
  )
  const last = points[points.length - 1]
  return (
    <div className="stack">
      <ErrorNote error={error} title="Could not read the stats." />
      <div className="stats-grid">
        {SERIES.map((s) => (
          <figure key={s.key} className="card stat" data-testid={`stat-${s.id}`}>
            <figcaption>
              <span className="stat-label">{s.label}</span>
              <span className="stat-value" data-testid={`stat-${s.id}-value`}>
                {last ? formatNumber(last[s.key]) : '–'}
              </span>
            </figcaption>
            <Sparkline values={points.map((p) => p[s.key])} label={s.label} windowSize={WINDOW} axisLabel="5 min ago" />
          </figure>
        ))}
      </div>
      <p className="muted small" aria-live="off">
        {latest
          ? `Updated every 2 s. Totals: ${formatNumber(latest.messagesPublished)} published, ${formatNumber(latest.messagesDelivered)} delivered, ${latest.nodes} node${latest.nodes === 1 ? '' : 's'}. Chart shows the last 5 minutes.`
          : 'Waiting for the first sample…'}
      </p>
    </div>
  )
}
