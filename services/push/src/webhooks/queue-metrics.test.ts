import { describe, expect, it } from 'vitest'
import { Metrics } from '../metrics.js'

describe('herald_webhook_queue_depth', () => {
  it("reports each app's outbox depth when scraped, and 0 once an app's queue emptied", async () => {
    const metrics = new Metrics()
    let depth: Record<string, number> = { app_a: 3, app_b: 1 }
    metrics.bindWebhookQueue(async () => depth)
    let text = await metrics.registry.metrics()
    expect(text).toContain('herald_webhook_queue_depth{app="app_a"} 3')
    expect(text).toContain('herald_webhook_queue_depth{app="app_b"} 1')
    depth = { app_b: 2 }
    text = await metrics.registry.metrics()
    expect(text).toContain('herald_webhook_queue_depth{app="app_a"} 0')
    expect(text).toContain('herald_webhook_queue_depth{app="app_b"} 2')
  })

  it('counts deliveries, retries and failures per app', async () => {
    const metrics = new Metrics()
    metrics.webhookDeliveries.inc({ app: 'app_a' })
    metrics.webhookRetries.inc({ app: 'app_a' }, 2)
    metrics.webhookFailures.inc({ app: 'app_b' })
    const text = await metrics.registry.metrics()
    expect(text).toContain('herald_webhook_deliveries_total{app="app_a"} 1')
    expect(text).toContain('herald_webhook_retries_total{app="app_a"} 2')
    expect(text).toContain('herald_webhook_failures_total{app="app_b"} 1')
  })
})
