import { defineConfig } from 'vitest/config'
import { sourceAliases } from '../../vitest.aliases.js'

export default defineConfig({
  resolve: { alias: sourceAliases },
  test: {
    include: ['src/**/*.test.ts'],
    testTimeout: 60_000,
    hookTimeout: 90_000,
    // Each file starts its own Herald processes on free ports; two cores: run files one by one.
    fileParallelism: false,
  },
})
