import { randomBytes } from 'node:crypto'
import { existsSync, mkdtempSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import Database from 'better-sqlite3'
import { afterAll, describe, expect, it } from 'vitest'
import { migrationsFolder } from './app-store-rows.js'
import { createSqliteAppStore } from './app-store-sqlite.js'
import { describeAppStoreContract } from './app-store.contract.js'
import { SecretBox } from './secret-box.js'
import { DEFAULT_SETTINGS } from './settings.js'

const dir = mkdtempSync(join(tmpdir(), 'herald-sqlite-'))
afterAll(() => rmSync(dir, { recursive: true, force: true }))

describeAppStoreContract('sqlite', (secretBox) => createSqliteAppStore({ file: join(dir, 'contract.db'), secretBox }))

describe('SQLite app store', () => {
  it('finds its migrations beside the package', () => {
    expect(existsSync(join(migrationsFolder('sqlite'), 'meta', '_journal.json'))).toBe(true)
  })

  it('persists to its file in WAL mode, creating the folder, with secrets sealed at rest', async () => {
    const file = join(dir, 'nested', 'deeper', 'herald.db')
    const box = new SecretBox(randomBytes(32))
    const first = createSqliteAppStore({ file, secretBox: box })
    await first.migrate()
    const { app, key } = await first.createApp({ name: 'Persisted', settings: DEFAULT_SETTINGS }, { label: 'l' })
    const revoked = await first.revokeKey(app.id, key.keyId)
    await first.setAdminTokenHash('ab'.repeat(32))
    await first.close()

    const raw = new Database(file, { readonly: true })
    try {
      expect(raw.pragma('journal_mode', { simple: true })).toBe('wal')
      const row = raw.prepare('select secret_enc from app_keys where key_id = ?').get(key.keyId) as { secret_enc: string }
      expect(row.secret_enc).not.toContain(key.secret)
      expect(row.secret_enc.startsWith('v1.')).toBe(true)
    } finally {
      raw.close()
    }

    const second = createSqliteAppStore({ file, secretBox: box })
    try {
      await second.migrate()
      expect(await second.getApp(app.id)).toEqual(app)
      expect(await second.listKeys(app.id)).toEqual([revoked])
      expect(await second.getAdminTokenHash()).toBe('ab'.repeat(32))
    } finally {
      await second.close()
    }
  })
})
