import { describe, expect, it } from 'vitest'
import { toWebhookDrafts, validateWebhooks } from './webhooks-spec.js'

describe('webhooks form validation', () => {
  it('round-trips webhooks with and without an event filter, events in the contract order', () => {
    const webhooks = [{ url: 'https://api.example.com/hooks' }, { url: 'http://10.0.0.2:8080/h', events: ['member_added', 'channel_occupied'] }]
    expect(validateWebhooks(toWebhookDrafts(webhooks))).toEqual({
      ok: true,
      webhooks: [{ url: 'https://api.example.com/hooks' }, { url: 'http://10.0.0.2:8080/h', events: ['channel_occupied', 'member_added'] }],
    })
  })

  it('names the row and the field that is wrong', () => {
    const r = validateWebhooks([
      { id: 1, url: 'https://ok.example/h', all: true, events: [] },
      { id: 2, url: 'ftp://x.example/h', all: true, events: [] },
      { id: 3, url: 'https://y.example/h', all: false, events: [] },
      { id: 4, url: 'not a url', all: true, events: [] },
    ])
    expect(r).toEqual({
      ok: false,
      errors: { 1: { url: expect.stringMatching(/http/) }, 2: { events: expect.stringMatching(/at least one/) }, 3: { url: expect.any(String) } },
    })
  })

  it('refuses more than 10', () => {
    const rows = Array.from({ length: 11 }, (_, i) => ({ id: i, url: `https://h.example/${i}`, all: true, events: [] }))
    expect(validateWebhooks(rows)).toMatchObject({ ok: false, message: 'At most 10 webhooks.' })
  })
})
