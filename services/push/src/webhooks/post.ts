import http from 'node:http'
import https from 'node:https'
import type { LookupFunction } from 'node:net'
import { isLinkLocal, type ResolvedAddress, resolveHost, urlHost } from './link-local.js'

/** What a POST got: the receiver's status, or why there is none. */
export type PostResult = { status: number } | { error: string; permanent?: boolean }

/** Sends one webhook POST; never throws. */
export type PostFn = (url: string, body: string, headers: Record<string, string>, timeoutMs: number) => Promise<PostResult>

const agents = { http: new http.Agent({ keepAlive: true, maxSockets: 8 }), https: new https.Agent({ keepAlive: true, maxSockets: 8 }) }

/**
 * POSTs with the link-local rule enforced at delivery: the host is resolved here, every
 * address checked, and the connection made to the checked address (the socket's `lookup`
 * is pinned to it), so a name that re-resolves between check and connect cannot slip
 * through. TLS still verifies the certificate against the URL's host name.
 */
export const postWebhook: PostFn = async (url, body, headers, timeoutMs) => {
  let target: URL
  try {
    target = new URL(url)
  } catch {
    return { error: 'not a URL', permanent: true }
  }
  const host = urlHost(target)
  let addresses: ResolvedAddress[]
  try {
    addresses = await resolveHost(host)
  } catch (err) {
    return { error: `cannot resolve ${host}: ${(err as NodeJS.ErrnoException).code ?? String(err)}` }
  }
  const bad = addresses.find((a) => isLinkLocal(a.address))
  if (bad || addresses.length === 0)
    return { error: bad ? `${host} resolves to the link-local address ${bad.address}: refused` : `${host} has no address`, permanent: Boolean(bad) }
  const pinned = addresses[0]!
  const lookup: LookupFunction = (_hostname, options, callback) => {
    if (options.all)
      (callback as unknown as (e: null, a: { address: string; family: number }[]) => void)(null, [{ address: pinned.address, family: pinned.family }])
    else callback(null, pinned.address, pinned.family)
  }
  const secure = target.protocol === 'https:'
  return new Promise<PostResult>((resolve) => {
    let settled = false
    const done = (r: PostResult) => {
      if (settled) return
      settled = true
      clearTimeout(timer)
      resolve(r)
    }
    const req = (secure ? https : http).request(
      target,
      {
        method: 'POST',
        agent: secure ? agents.https : agents.http,
        lookup,
        headers: { ...headers, 'Content-Length': String(Buffer.byteLength(body)), 'User-Agent': 'Herald-Webhooks' },
      },
      (res) => {
        // The reply body is not used: read and discard it, so the socket can be reused.
        res.resume()
        res.once('end', () => done({ status: res.statusCode ?? 0 }))
        res.once('error', () => done({ status: res.statusCode ?? 0 }))
      },
    )
    const timer = setTimeout(() => {
      done({ error: `no answer within ${timeoutMs} ms` })
      req.destroy()
    }, timeoutMs)
    req.once('error', (err: NodeJS.ErrnoException) => done({ error: err.code ? `${err.code} ${err.message}` : err.message }))
    req.end(body)
  })
}
