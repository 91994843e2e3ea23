import { randomBytes } from 'node:crypto'
import pg from 'pg'
import { afterAll } from 'vitest'
import { createPostgresAppStore } from '../apps/app-store-postgres.js'
import { SecretBox } from '../apps/secret-box.js'
import { DEFAULT_SETTINGS } from '../apps/settings.js'
import { describeOutboxContract } from './outbox.contract.js'
import { createPostgresOutbox } from './outbox-postgres.js'

const SERVER = process.env.HERALD_TEST_POSTGRES_URL ?? 'postgres://postgres@127.0.0.1:5432/postgres'
const name = 'herald_outbox_' + randomBytes(6).toString('hex')

async function admin(sql: string): Promise<void> {
  const client = new pg.Client({ connectionString: SERVER })
  await client.connect()
  try {
    await client.query(sql)
  } finally {
    await client.end()
  }
}

afterAll(() => admin(`DROP DATABASE IF EXISTS ${name} WITH (FORCE)`))

describeOutboxContract('postgres', async () => {
  await admin(`CREATE DATABASE ${name}`)
  const url = new URL(SERVER)
  url.pathname = '/' + name
  const store = createPostgresAppStore({ url: url.toString(), secretBox: new SecretBox(randomBytes(32)) })
  await store.migrate()
  const a = await store.createApp({ name: 'a', settings: DEFAULT_SETTINGS }, {})
  const b = await store.createApp({ name: 'b', settings: DEFAULT_SETTINGS }, {})
  const outbox = createPostgresOutbox({ url: url.toString() })
  return {
    outbox,
    another: () => createPostgresOutbox({ url: url.toString() }),
    apps: [a.app.id, b.app.id],
    deleteApp: async (appId) => void (await store.deleteApp(appId)),
    close: async () => {
      await outbox.close()
      await store.close()
    },
  }
})
