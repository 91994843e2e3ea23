import { beforeAll, describe, expect, it, vi } from 'vitest'
import { parseRoute, routePath } from './router.js'

describe('router', () => {
  // Vitest serves from '/'; the build uses base '/dashboard/'.
  beforeAll(() => void vi.stubEnv('BASE_URL', '/dashboard/'))

  it('reads routes under /dashboard/', () => {
    expect(parseRoute('/dashboard/')).toEqual({ page: 'apps' })
    expect(parseRoute('/dashboard')).toEqual({ page: 'apps' })
    expect(parseRoute('/dashboard/apps')).toEqual({ page: 'apps' })
    expect(parseRoute('/dashboard/apps/app_1')).toEqual({ page: 'app', appId: 'app_1', tab: 'stats' })
    expect(parseRoute('/dashboard/apps/app_1/debug')).toEqual({ page: 'app', appId: 'app_1', tab: 'debug' })
    expect(parseRoute('/dashboard/apps/app_1/nope')).toEqual({ page: 'missing', path: '/dashboard/apps/app_1/nope' })
    expect(parseRoute('/dashboard/elsewhere')).toMatchObject({ page: 'missing' })
  })

  it('writes paths that read back to the same route', () => {
    expect(routePath({ page: 'apps' })).toBe('/dashboard/')
    expect(routePath({ page: 'app', appId: 'app_1', tab: 'stats' })).toBe('/dashboard/apps/app_1')
    for (const tab of ['stats', 'keys', 'settings', 'webhooks', 'debug', 'quickstart'] as const) {
      const route = { page: 'app' as const, appId: 'app_x-Y', tab }
      expect(parseRoute(routePath(route))).toEqual(route)
    }
  })
})
