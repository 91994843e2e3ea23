import { describe, expect, it } from 'vitest'
import { isLinkLocal, linkLocalReason } from './link-local.js'

describe('link-local rule', () => {
  it('matches 169.254.0.0/16 and fe80::/10, IPv4-mapped forms included', () => {
    for (const a of ['169.254.169.254', '169.254.0.1', 'fe80::1', 'febf::1', '::ffff:169.254.169.254']) expect(isLinkLocal(a), a).toBe(true)
  })

  it('leaves loopback, private and public addresses alone', () => {
    for (const a of ['127.0.0.1', '::1', '10.0.0.1', '192.168.1.2', '172.16.0.1', '169.253.255.255', '169.255.0.1', 'fec0::1', '8.8.8.8', 'example.com']) {
      expect(isLinkLocal(a), a).toBe(false)
    }
  })

  it('refuses URLs whose host is link-local in any spelling the URL parser accepts', async () => {
    expect(await linkLocalReason('http://169.254.169.254/latest/meta-data')).toMatch(/link-local/)
    expect(await linkLocalReason('http://[fe80::1]:8080/hook')).toMatch(/link-local/)
    // WHATWG URL parsing turns these into 169.254.169.254
    expect(await linkLocalReason('http://2852039166/')).toMatch(/link-local/)
    expect(await linkLocalReason('http://0xa9.0xfe.0xa9.0xfe/')).toMatch(/link-local/)
  })

  it('allows loopback and names that resolve to loopback', async () => {
    expect(await linkLocalReason('http://127.0.0.1:9000/hook')).toBeNull()
    expect(await linkLocalReason('http://localhost:9000/hook')).toBeNull()
    expect(await linkLocalReason('https://10.1.2.3/hook')).toBeNull()
  })
})
