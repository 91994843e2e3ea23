import { defineConfig } from 'drizzle-kit'

/** `drizzle-kit generate --config drizzle.sqlite.config.ts` writes SQL migrations to <repo>/migrations/sqlite. */
export default defineConfig({
  dialect: 'sqlite',
  schema: ['./src/apps/schema-sqlite.ts', './src/engine/schema-history-sqlite.ts', './src/webhooks/schema-sqlite.ts'],
  out: '../../migrations/sqlite',
})
