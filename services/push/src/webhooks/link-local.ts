import { lookup } from 'node:dns/promises'
import { BlockList, isIP } from 'node:net'

/**
 * Link-local networks (169.254.0.0/16, fe80::/10): where cloud metadata services answer.
 * A webhook may never reach them; loopback and private networks stay allowed, since
 * self-hosted backends live there. IPv4-mapped IPv6 addresses (`::ffff:169.254.x.x`) match too.
 */
const linkLocal = new BlockList()
linkLocal.addSubnet('169.254.0.0', 16, 'ipv4')
linkLocal.addSubnet('fe80::', 10, 'ipv6')

/** True when `address` (an IP literal) is link-local. */
export function isLinkLocal(address: string): boolean {
  const family = isIP(address)
  if (family === 0) return false
  return linkLocal.check(address, family === 4 ? 'ipv4' : 'ipv6')
}

/** The host of a URL as an IP literal or a name, without IPv6 brackets. */
export function urlHost(url: URL): string {
  return url.hostname.startsWith('[') ? url.hostname.slice(1, -1) : url.hostname
}

export interface ResolvedAddress {
  address: string
  family: 4 | 6
}

/** Resolves a host name (or passes an IP literal through): every address it has. */
export async function resolveHost(host: string): Promise<ResolvedAddress[]> {
  const family = isIP(host)
  if (family !== 0) return [{ address: host, family: family as 4 | 6 }]
  const all = await lookup(host, { all: true, verbatim: true })
  return all.map((a) => ({ address: a.address, family: a.family === 6 ? 6 : 4 }))
}

/**
 * Why a webhook URL is refused, or null when it is allowed: its host is, or resolves to, a
 * link-local address. A name that does not resolve (now) is allowed here: delivery resolves
 * it again and checks every time.
 */
export async function linkLocalReason(url: string): Promise<string | null> {
  let parsed: URL
  try {
    parsed = new URL(url)
  } catch {
    return 'not a URL'
  }
  const host = urlHost(parsed)
  let addresses: ResolvedAddress[]
  try {
    addresses = await resolveHost(host)
  } catch {
    return null
  }
  const bad = addresses.find((a) => isLinkLocal(a.address))
  if (!bad) return null
  return bad.address === host
    ? `${host} is a link-local address (refused: cloud metadata services live there)`
    : `${host} resolves to the link-local address ${bad.address} (refused: cloud metadata services live there)`
}
