import { useState } from 'react'
import type { WebhookDelivery } from '../../api/types.js'
import { ErrorNote } from '../../components/ErrorNote.js'
import { useSession } from '../../lib/api-context.js'
import { usePolling } from '../../lib/use-polling.js'

function outcomeText(d: WebhookDelivery): string {
  const detail = d.status !== undefined ? `HTTP ${d.status}` : (d.error ?? '')
  return `${d.outcome}${detail ? ` (${detail})` : ''}`
}

/** The app's latest webhook attempts (time, URL, events, status, attempt, latency), refreshed every 2 s. */
export function WebhookDeliveries({ appId }: { appId: string }) {
  const { api } = useSession()
  const [data, setData] = useState<{ deliveries: WebhookDelivery[]; pending: number } | null>(null)
  const [error, setError] = useState<unknown>(null)
  usePolling(
    async (live) => {
      try {
        const next = await api.webhookDeliveries(appId)
        if (live()) {
          setData(next)
          setError(null)
        }
      } catch (err) {
        if (live()) setError(err)
      }
    },
    2000,
    [api, appId],
  )

  return (
    <section className="card" aria-labelledby="deliveries-title">
      <h2 id="deliveries-title">Recent deliveries</h2>
      <ErrorNote error={error} title="Could not load the deliveries." />
      {data ? (
        <>
          <p className="muted" role="status">
            {data.pending === 0 ? 'Nothing waiting to be sent.' : `${data.pending} POST${data.pending === 1 ? '' : 's'} waiting in the outbox.`}
          </p>
          {data.deliveries.length === 0 ? (
            <p className="muted">No deliveries yet.</p>
          ) : (
            <div className="table-wrap">
              <table className="deliveries">
                <thead>
                  <tr>
                    <th scope="col">Time</th>
                    <th scope="col">URL</th>
                    <th scope="col">Events</th>
                    <th scope="col">Status</th>
                    <th scope="col">Attempt</th>
                    <th scope="col">Latency</th>
                  </tr>
                </thead>
                <tbody>
                  {data.deliveries.map((d) => (
                    <tr key={d.id} className={`delivery-${d.outcome}`}>
                      <td data-label="Time">
                        <time dateTime={new Date(d.at).toISOString()}>{new Date(d.at).toLocaleTimeString('en', { hour12: false })}</time>
                      </td>
                      <td data-label="URL" className="delivery-url">
                        {d.url}
                      </td>
                      <td data-label="Events">{d.events.join(', ')}</td>
                      <td data-label="Status">{outcomeText(d)}</td>
                      <td data-label="Attempt">{d.attempt}</td>
                      <td data-label="Latency">{d.latencyMs} ms</td>
                    </tr>
                  ))}
                </tbody>
              </table>
            </div>
          )}
        </>
      ) : !error ? (
        <p className="muted">Loading…</p>
      ) : null}
    </section>
  )
}
