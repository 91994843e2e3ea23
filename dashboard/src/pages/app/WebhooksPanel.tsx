import type { App } from '../../api/types.js'
import type { AppData } from '../AppPage.js'
import { WebhookDeliveries } from './WebhookDeliveries.js'
import { WebhooksForm } from './WebhooksForm.js'

/** The app's webhooks and their delivery log. */
export function WebhooksPanel({ data, onSaved }: { data: AppData; onSaved(app: App): void }) {
  return (
    <div className="stack">
      <WebhooksForm app={data.app} onSaved={onSaved} />
      <WebhookDeliveries appId={data.app.id} />
    </div>
  )
}
