// @vitest-environment node
import { fileURLToPath } from 'node:url'
import { gzipSync } from 'node:zlib'
import { build } from 'esbuild'
import { describe, expect, it } from 'vitest'

const script = '../scripts/size.mjs'

describe('bundle size', () => {
  it('adds at most 3 KiB minified + gzipped to an app (React and @herald/client not counted)', async () => {
    const { bundle, BUDGET } = (await import(script)) as { bundle(): Promise<string>; BUDGET: number }
    const code = await bundle()
    expect(code).toMatch(/from"react"/)
    expect(code).not.toContain('EventSource') // the client stays external: no second copy
    expect(BUDGET).toBe(3072)
    expect(gzipSync(code, { level: 9 }).length).toBeLessThanOrEqual(BUDGET)
  })

  it('is tree-shakable: an app importing one hook gets only what that hook needs', async () => {
    const { bundleOptions } = (await import(script)) as { bundleOptions(): Record<string, unknown> }
    const { entryPoints: _entry, ...options } = bundleOptions()
    const result = await build({
      ...options,
      stdin: {
        contents: "import { useConnectionState } from './index.ts'; console.log(useConnectionState)",
        resolveDir: fileURLToPath(new URL('.', import.meta.url)),
        loader: 'ts',
      },
    })
    const code = result.outputFiles?.[0]?.text ?? ''
    expect(code).toContain('useSyncExternalStore')
    expect(code).not.toContain('members')
    expect(code).not.toContain('queueMicrotask')
  })
})
