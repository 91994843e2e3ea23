import { randomBytes } from 'node:crypto'
import { mkdtempSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { afterAll, describe, expect, it } from 'vitest'
import { MasterKeyMismatchError } from './app-store-rows.js'
import { createSqliteAppStore } from './app-store-sqlite.js'
import { loadMasterKey, MasterKeyCheckError, parseMasterKey, verifyMasterKey } from './master-key.js'
import { DEFAULT_SETTINGS } from './settings.js'
import { SecretBox } from './secret-box.js'

const root = mkdtempSync(join(tmpdir(), 'herald-master-key-'))
afterAll(() => rmSync(root, { recursive: true, force: true }))
const freshDir = () => mkdtempSync(join(root, 'd-'))

describe('parseMasterKey', () => {
  const bytes = randomBytes(32)

  it('reads 64 hex characters, 43 base64url characters, and padded base64', () => {
    expect(parseMasterKey(bytes.toString('hex'))).toEqual(bytes)
    expect(parseMasterKey(bytes.toString('hex').toUpperCase())).toEqual(bytes)
    expect(parseMasterKey(bytes.toString('base64url'))).toEqual(bytes)
    expect(parseMasterKey(bytes.toString('base64'))).toEqual(bytes)
    expect(parseMasterKey(`  ${bytes.toString('hex')}\n`)).toEqual(bytes)
  })

  it('rejects other lengths and alphabets with a message naming HERALD_MASTER_KEY', () => {
    for (const bad of [
      '',
      'short',
      randomBytes(16).toString('hex'),
      randomBytes(31).toString('base64url'),
      randomBytes(33).toString('base64url'),
      randomBytes(32).toString('hex') + 'ab',
      'z'.repeat(64),
    ]) {
      expect(() => parseMasterKey(bad), bad).toThrow(/HERALD_MASTER_KEY must be 32 bytes/)
    }
  })
})

describe('loadMasterKey', () => {
  it('prefers HERALD_MASTER_KEY and writes no file', () => {
    const dir = freshDir()
    const bytes = randomBytes(32)
    const got = loadMasterKey({ env: bytes.toString('base64url'), dataDir: dir })
    expect(got).toEqual({ key: bytes, source: 'env' })
    expect(() => statSync(join(dir, 'master.key'))).toThrow()
  })

  it('fails clearly on a malformed HERALD_MASTER_KEY instead of falling back to the file', () => {
    expect(() => loadMasterKey({ env: 'not-a-key', dataDir: freshDir() })).toThrow(/HERALD_MASTER_KEY/)
  })

  it('generates <dataDir>/master.key with mode 0600 on first start (creating the folder), then reads it', () => {
    const dir = join(freshDir(), 'not', 'yet')
    const first = loadMasterKey({ env: undefined, dataDir: dir })
    expect(first.source).toBe('generated')
    expect(first.key).toHaveLength(32)
    const file = join(dir, 'master.key')
    expect(first.file).toBe(file)
    expect(statSync(file).mode & 0o777).toBe(0o600)
    expect(readFileSync(file, 'utf8').trim()).toBe(first.key.toString('hex'))

    const second = loadMasterKey({ env: '', dataDir: dir })
    expect(second).toEqual({ key: first.key, source: 'file', file })
    // The key works with SecretBox across "restarts".
    const sealed = new SecretBox(first.key).seal('s3cret')
    expect(new SecretBox(second.key).open(sealed)).toBe('s3cret')
  })

  it('rejects a corrupt master.key, naming the file', () => {
    const dir = freshDir()
    writeFileSync(join(dir, 'master.key'), 'garbage\n')
    expect(() => loadMasterKey({ dataDir: dir })).toThrow(join(dir, 'master.key'))
  })
})

describe('verifyMasterKey', () => {
  it('passes on an empty store and with the right key, and fails clearly with another key', async () => {
    const file = join(freshDir(), 'herald.db')
    const right = new SecretBox(randomBytes(32))
    const store = createSqliteAppStore({ file, secretBox: right })
    try {
      await store.migrate()
      await verifyMasterKey(store, right)
      await store.createApp({ name: 'one', settings: DEFAULT_SETTINGS }, {})
      await verifyMasterKey(store, right)
    } finally {
      await store.close()
    }
    const other = new SecretBox(randomBytes(32))
    const wrong = createSqliteAppStore({ file, secretBox: other })
    try {
      const failure = verifyMasterKey(wrong, other)
      await expect(failure).rejects.toBeInstanceOf(MasterKeyMismatchError)
      await expect(failure).rejects.toThrow(/HERALD_MASTER_KEY/)
    } finally {
      await wrong.close()
    }
  })

  it('on an empty database, the first key wins: another key is refused, naming HERALD_MASTER_KEY, before any app exists', async () => {
    const file = join(freshDir(), 'herald.db')
    const first = new SecretBox(randomBytes(32))
    const second = new SecretBox(randomBytes(32))
    const a = createSqliteAppStore({ file, secretBox: first })
    const b = createSqliteAppStore({ file, secretBox: second })
    try {
      await a.migrate()
      await verifyMasterKey(a, first)
      const failure = verifyMasterKey(b, second)
      await expect(failure).rejects.toBeInstanceOf(MasterKeyCheckError)
      await expect(failure).rejects.toThrow(/HERALD_MASTER_KEY/)
      expect(await a.listApps()).toEqual([])
      await verifyMasterKey(a, first) // the right key still passes, every time
    } finally {
      await a.close()
      await b.close()
    }
  })
})
