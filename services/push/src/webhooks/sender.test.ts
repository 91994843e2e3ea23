import { createHmac } from 'node:crypto'
import { describe, expect, it } from 'vitest'
import { FakeClock } from './fake-clock.js'
import { DEFAULT_WEBHOOK_OPTIONS, type WebhookOptions } from './options.js'
import { MemoryOutbox } from './outbox-memory.js'
import type { PostFn, PostResult } from './post.js'
import { WebhookSender } from './sender.js'

interface Call {
  url: string
  body: string
  headers: Record<string, string>
  at: number
}

/** A sender on a fake clock and a memory outbox; `reply` decides each POST's result. */
function setup(reply: (call: Call, n: number) => PostResult | Promise<PostResult>, options: Partial<WebhookOptions> = {}, owner = 'n1') {
  const clock = new FakeClock()
  const outbox = new MemoryOutbox()
  const calls: Call[] = []
  const counts = { delivered: 0, retried: 0, dropped: 0 }
  const post: PostFn = async (url, body, headers) => {
    const call = { url, body, headers, at: clock.now() }
    calls.push(call)
    return reply(call, calls.filter((c) => c.url === url).length)
  }
  const opts: WebhookOptions = {
    ...DEFAULT_WEBHOOK_OPTIONS,
    backoffMs: 1000,
    maxBackoffMs: 60_000,
    retryForMs: 600_000,
    pollMs: 1000,
    timeoutMs: 10_000,
    ...options,
  }
  const make = (who: string) =>
    new WebhookSender({
      outbox,
      owner: who,
      signingKey: async (appId) => (appId === 'keyless' ? null : { keyId: `key_${appId}`, secret: `secret-of-${appId}` }),
      post,
      options: opts,
      clock,
      random: () => 1,
      events: { delivered: () => counts.delivered++, retried: () => counts.retried++, dropped: () => counts.dropped++ },
    })
  const sender = make(owner)
  const enqueue = (appId: string, url: string, body = '{"time_ms":1,"events":[]}') =>
    outbox.enqueue({ appId, url, body, eventNames: ['channel_occupied'] }, clock.now())
  return { clock, outbox, calls, counts, sender, make, enqueue }
}

describe('WebhookSender', () => {
  it('POSTs the stored body signed with the app key: exact Content-Type, X-Pusher-Key, hex HMAC-SHA256', async () => {
    const t = setup(() => ({ status: 200 }))
    await t.enqueue('app_a', 'http://r/hook', '{"time_ms":5,"events":[{"name":"channel_occupied","channel":"c"}]}')
    await t.sender.start()
    await t.clock.advance(0)
    expect(t.calls).toHaveLength(1)
    const { headers, body } = t.calls[0]!
    expect(headers['Content-Type']).toBe('application/json')
    expect(headers['X-Pusher-Key']).toBe('key_app_a')
    expect(headers['X-Pusher-Signature']).toBe(createHmac('sha256', 'secret-of-app_a').update(body).digest('hex'))
    expect(await t.outbox.depth()).toEqual({})
    expect(t.counts.delivered).toBe(1)
    expect((await t.outbox.deliveries('app_a', 10)).map((d) => [d.outcome, d.httpStatus, d.attempt])).toEqual([['delivered', 200, 1]])
  })

  it('retries a 500 with exponential backoff and delivers on the third try', async () => {
    const t = setup((_c, n) => ({ status: n <= 2 ? 500 : 204 }))
    await t.enqueue('app_a', 'http://r/hook')
    await t.sender.start()
    await t.clock.advance(0)
    expect(t.calls.length).toBe(1)
    await t.clock.advance(999)
    expect(t.calls.length).toBe(1)
    await t.clock.advance(1)
    expect(t.calls.length).toBe(2)
    await t.clock.advance(1999)
    expect(t.calls.length).toBe(2)
    await t.clock.advance(1)
    expect(t.calls.length).toBe(3)
    expect(t.calls.map((c) => c.at - t.calls[0]!.at)).toEqual([0, 1000, 3000])
    expect(new Set(t.calls.map((c) => c.body)).size).toBe(1)
    expect(t.counts).toEqual({ delivered: 1, retried: 2, dropped: 0 })
    expect((await t.outbox.deliveries('app_a', 10)).map((d) => [d.outcome, d.attempt])).toEqual([
      ['delivered', 3],
      ['retrying', 2],
      ['retrying', 1],
    ])
  })

  it('keeps retrying failures and timeouts for the retry window (over 5 minutes), then drops and counts the entry', async () => {
    const t = setup((_c, n) => (n % 2 ? { status: 503 } : { error: 'no answer within 10000 ms' }))
    await t.enqueue('app_a', 'http://r/hook')
    await t.sender.start()
    await t.clock.advance(300_000)
    expect(await t.outbox.depth()).toEqual({ app_a: 1 })
    await t.clock.advance(400_000)
    expect(await t.outbox.depth()).toEqual({})
    expect(t.counts.dropped).toBe(1)
    const last = t.calls[t.calls.length - 1]!.at - t.calls[0]!.at
    expect(last).toBeGreaterThan(300_000)
    expect(last).toBeLessThanOrEqual(600_000)
    expect((await t.outbox.deliveries('app_a', 1))[0]!.outcome).toBe('dropped')
  })

  it('drops at once a URL that now resolves to a link-local address (a permanent refusal)', async () => {
    const t = setup(() => ({ error: 'h resolves to the link-local address 169.254.169.254: refused', permanent: true }))
    await t.enqueue('app_a', 'http://h/hook')
    await t.sender.start()
    await t.clock.advance(0)
    expect(t.counts).toEqual({ delivered: 0, retried: 0, dropped: 1 })
  })

  it('sends one queue in order: the second batch waits until the first is delivered', async () => {
    const t = setup((c, n) => ({ status: c.body === 'first' && n === 1 ? 500 : 200 }))
    await t.enqueue('app_a', 'http://r/hook', 'first')
    await t.enqueue('app_a', 'http://r/hook', 'second')
    await t.sender.start()
    await t.clock.advance(0)
    expect(t.calls.map((c) => c.body)).toEqual(['first'])
    await t.clock.advance(1000)
    expect(t.calls.map((c) => c.body)).toEqual(['first', 'first', 'second'])
  })

  it('never lets a hanging receiver delay another URL or app, and bounds POSTs in flight', async () => {
    const hang: Array<() => void> = []
    const t = setup(
      (c) => (c.url.startsWith('http://slow') ? new Promise<PostResult>((r) => hang.push(() => r({ error: 'no answer within 10000 ms' }))) : { status: 200 }),
      { concurrency: 2 },
    )
    await t.enqueue('app_a', 'http://slow/1')
    await t.enqueue('app_a', 'http://slow/1')
    await t.enqueue('app_b', 'http://fast/1')
    await t.sender.start()
    await t.clock.advance(0)
    expect(t.calls.map((c) => c.url).sort()).toEqual(['http://fast/1', 'http://slow/1'])
    expect(t.counts.delivered).toBe(1)
    await t.enqueue('app_c', 'http://slow/2')
    await t.enqueue('app_d', 'http://slow/3')
    t.sender.wake()
    await t.clock.advance(0)
    expect(t.sender.inFlight).toBe(2)
    expect(t.calls.filter((c) => c.url.startsWith('http://slow')).length).toBe(2)
    // The two that hung time out: their slots go to the queue that was waiting for one.
    for (const f of hang.splice(0)) f()
    await t.clock.advance(0)
    expect(t.calls.filter((c) => c.url === 'http://slow/3').length).toBe(1)
    expect(t.counts.retried).toBe(2)
    for (const f of hang.splice(0)) f()
    await t.sender.stop()
  })

  it('picks up what a dead node leased once the lease expires, and what it left at a restart at once', async () => {
    const t = setup(() => ({ status: 200 }))
    await t.enqueue('app_a', 'http://r/hook')
    // node "dead" claimed it and never finished.
    expect((await t.outbox.claim('dead', t.clock.now(), 15_000, 10)).length).toBe(1)
    const other = t.make('n2')
    await other.start()
    await t.clock.advance(14_000)
    expect(t.calls.length).toBe(0)
    await t.clock.advance(2_000)
    expect(t.calls.length).toBe(1)
    await other.stop()

    await t.enqueue('app_a', 'http://r/again')
    expect((await t.outbox.claim('n1', t.clock.now(), 15_000, 10)).length).toBe(1)
    await t.sender.start() // n1 restarted: its own leases are released
    await t.clock.advance(0)
    expect(t.calls.map((c) => c.url)).toEqual(['http://r/hook', 'http://r/again'])
  })

  it('retries an app that has no live key to sign with instead of sending unsigned', async () => {
    const t = setup(() => ({ status: 200 }))
    await t.enqueue('keyless', 'http://r/hook')
    await t.sender.start()
    await t.clock.advance(0)
    expect(t.calls).toEqual([])
    expect((await t.outbox.deliveries('keyless', 1))[0]).toMatchObject({ outcome: 'retrying', error: expect.stringMatching(/no live key/) })
  })
})
