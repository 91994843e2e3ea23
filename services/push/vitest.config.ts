import { defineConfig } from 'vitest/config'
import { sourceAliases } from '../../vitest.aliases.js'

export default defineConfig({
  resolve: { alias: sourceAliases },
  test: {
    include: ['src/**/*.test.ts'],
    testTimeout: 20_000,
    hookTimeout: 30_000,
    // Type-level tests (`expectTypeOf`): the HTTP schemas against the @herald/protocol types.
    typecheck: { enabled: true, include: ['src/**/*.contract.test.ts'], tsconfig: './tsconfig.json', ignoreSourceErrors: true },
  },
})
