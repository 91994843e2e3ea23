import { createHmac } from 'node:crypto'

/**
 * `X-Pusher-Signature`: hex HMAC-SHA256 of the exact body bytes with the key's secret (its
 * UTF-8 bytes, as for JWTs) — what the `pusher` libraries' webhook check computes.
 */
export function signBody(secret: string, body: string): string {
  return createHmac('sha256', secret).update(body).digest('hex')
}

/** The headers of a webhook POST. `Content-Type` carries no charset: the `pusher` library's check refuses one. */
export function webhookHeaders(keyId: string, secret: string, body: string): Record<string, string> {
  return { 'Content-Type': 'application/json', 'X-Pusher-Key': keyId, 'X-Pusher-Signature': signBody(secret, body) }
}
