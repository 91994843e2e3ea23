import { defineConfig } from 'drizzle-kit'

/** `drizzle-kit generate --config drizzle.postgres.config.ts` writes SQL migrations to <repo>/migrations/postgres. */
export default defineConfig({
  dialect: 'postgresql',
  schema: ['./src/apps/schema-postgres.ts', './src/webhooks/schema-postgres.ts'],
  out: '../../migrations/postgres',
})
