import { randomBytes } from 'node:crypto'
import { readFileSync } from 'node:fs'
import { join } from 'node:path'
import pg from 'pg'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { createPostgresAppStore } from './app-store-postgres.js'
import { describeAppStoreContract } from './app-store.contract.js'
import { migrationsFolder } from './app-store-rows.js'
import { SecretBox } from './secret-box.js'
import { DEFAULT_SETTINGS } from './settings.js'

const SERVER = process.env.HERALD_TEST_POSTGRES_URL ?? 'postgres://postgres@127.0.0.1:5432/postgres'
const created: string[] = []

/** A fresh, empty database on the test server; dropped in afterAll. */
function freshDatabase(): string {
  const name = 'herald_test_' + randomBytes(6).toString('hex')
  created.push(name)
  const url = new URL(SERVER)
  url.pathname = '/' + name
  return url.toString()
}

async function admin<T>(fn: (client: pg.Client) => Promise<T>): Promise<T> {
  const client = new pg.Client({ connectionString: SERVER })
  await client.connect()
  try {
    return await fn(client)
  } finally {
    await client.end()
  }
}

async function query(url: string, text: string, values: unknown[] = []): Promise<pg.QueryResult> {
  const client = new pg.Client({ connectionString: url })
  await client.connect()
  try {
    return await client.query(text, values)
  } finally {
    await client.end()
  }
}

const contractUrl = freshDatabase()
const concurrentUrl = freshDatabase()
const rawUrl = freshDatabase()

beforeAll(async () => {
  await admin(async (c) => {
    for (const name of created) await c.query(`create database "${name}"`)
  })
})
afterAll(async () => {
  await admin(async (c) => {
    for (const name of created) await c.query(`drop database if exists "${name}" with (force)`)
  })
})

describeAppStoreContract('postgres', (secretBox) => createPostgresAppStore({ url: contractUrl, secretBox }))

describe('PostgreSQL app store', () => {
  it('migrates safely when several nodes start at once', async () => {
    const box = new SecretBox(randomBytes(32))
    const stores = Array.from({ length: 4 }, () => createPostgresAppStore({ url: concurrentUrl, secretBox: box }))
    try {
      await Promise.all(stores.map((s) => s.migrate()))
      const { app } = await stores[0]!.createApp({ name: 'after-race', settings: DEFAULT_SETTINGS }, {})
      expect(await stores[3]!.getApp(app.id)).toEqual(app)
      const { rows } = await query(concurrentUrl, 'select count(*)::int as n from drizzle.__drizzle_migrations')
      // every migration applied exactly once
      const journal = JSON.parse(readFileSync(join(migrationsFolder('postgres'), 'meta', '_journal.json'), 'utf8')) as { entries: unknown[] }
      expect(rows[0].n).toBe(journal.entries.length)
    } finally {
      await Promise.all(stores.map((s) => s.close()))
    }
  })

  it('keeps secrets sealed at rest and timestamps as timestamptz', async () => {
    const box = new SecretBox(randomBytes(32))
    const store = createPostgresAppStore({ url: rawUrl, secretBox: box })
    const c = new pg.Client({ connectionString: rawUrl })
    try {
      await store.migrate()
      const { app, key } = await store.createApp({ name: 'raw', settings: DEFAULT_SETTINGS }, {})
      await c.connect()
      const { rows } = await c.query('select secret_enc, created_at from app_keys where key_id = $1', [key.keyId])
      expect(rows[0].secret_enc).not.toContain(key.secret)
      expect(rows[0].secret_enc.startsWith('v1.')).toBe(true)
      expect(rows[0].created_at).toBeInstanceOf(Date)
      expect((rows[0].created_at as Date).toISOString()).toBe(key.createdAt)
      // A second store on the same database sees the same data.
      const again = createPostgresAppStore({ url: rawUrl, secretBox: box })
      try {
        expect(await again.getApp(app.id)).toEqual(app)
        expect(await again.listKeys(app.id)).toEqual([key])
      } finally {
        await again.close()
      }
    } finally {
      await c.end().catch(() => {})
      await store.close()
    }
  })
})
