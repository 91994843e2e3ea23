import type { Webhook } from '../apps/settings.js'
import { badRequest } from '../errors.js'
import { linkLocalReason } from './link-local.js'

/**
 * The save-time half of the link-local rule: throws `bad_request` naming the field
 * (`settings.webhooks.<i>.url`) when a webhook's host is or resolves to a link-local address.
 * (Scheme, event names and the count of 10 are checked by the settings schema.)
 */
export async function assertWebhookUrls(webhooks: readonly Webhook[] | undefined): Promise<void> {
  if (!webhooks) return
  const reasons = await Promise.all(webhooks.map((w) => linkLocalReason(w.url)))
  const i = reasons.findIndex((r) => r !== null)
  if (i >= 0) throw badRequest(`settings.webhooks.${i}.url: ${reasons[i]}`)
}
