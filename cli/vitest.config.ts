import { defineConfig } from 'vitest/config'
import { sourceAliases } from '../vitest.aliases.js'

export default defineConfig({
  resolve: { alias: sourceAliases },
  test: { include: ['src/**/*.test.ts'], testTimeout: 20_000 },
})
