import { randomBytes } from 'node:crypto'
import { mkdtempSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { afterAll } from 'vitest'
import { createSqliteAppStore } from '../apps/app-store-sqlite.js'
import { SecretBox } from '../apps/secret-box.js'
import { DEFAULT_SETTINGS } from '../apps/settings.js'
import { describeOutboxContract } from './outbox.contract.js'
import { createSqliteOutbox } from './outbox-sqlite.js'

const dir = mkdtempSync(join(tmpdir(), 'herald-outbox-'))
afterAll(() => rmSync(dir, { recursive: true, force: true }))

describeOutboxContract('sqlite', async () => {
  const file = join(dir, 'herald.db')
  const store = createSqliteAppStore({ file, secretBox: new SecretBox(randomBytes(32)) })
  await store.migrate()
  const a = await store.createApp({ name: 'a', settings: DEFAULT_SETTINGS }, {})
  const b = await store.createApp({ name: 'b', settings: DEFAULT_SETTINGS }, {})
  const outbox = createSqliteOutbox({ file })
  return {
    outbox,
    another: () => createSqliteOutbox({ file }),
    apps: [a.app.id, b.app.id],
    deleteApp: async (appId) => void (await store.deleteApp(appId)),
    close: async () => {
      await outbox.close()
      await store.close()
    },
  }
})
