import { spawn } from 'node:child_process'
import { randomBytes } from 'node:crypto'
import { closeSync, mkdirSync, mkdtempSync, openSync, readFileSync, unlinkSync, writeFileSync, writeSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { afterAll, describe, expect, it } from 'vitest'
import { history, http } from './support/attack.js'
import { createDatabase, type TestDatabase } from './support/cluster.js'
import { createApp, freePort, MAIN, publish, startHerald, type HeraldProcess } from './support/herald.js'
import { mountTmpfs, type Tmpfs } from './support/tmpfs.js'

/**
 * A node never serves on a database it cannot trust or use: the wrong master key, a database
 * file held by another Herald process, read-only or corrupt. It refuses to start, says why on
 * stderr, and leaves the file as it was. A full disk fails publishes with 500 `internal`,
 * acknowledges nothing it did not store, and publishing works again once space is freed.
 */

const heralds: HeraldProcess[] = []
const mounts: Tmpfs[] = []
const databases: TestDatabase[] = []

afterAll(async () => {
  for (const h of heralds) await h.stop('SIGKILL')
  for (const m of mounts) m.unmount()
  for (const d of databases) await d.drop()
})

async function herald(options: Parameters<typeof startHerald>[0] = {}): Promise<HeraldProcess> {
  const h = await startHerald(options)
  heralds.push(h)
  return h
}

const tempDir = () => mkdtempSync(join(tmpdir(), 'herald-e2e-db-'))

/** Starts a node that must refuse to start; resolves with its exit code and what it wrote. */
async function refusedStart(env: Record<string, string>): Promise<{ code: number | null; stderr: string; stdout: string }> {
  const port = await freePort()
  const child = spawn(process.execPath, [MAIN], {
    env: {
      ...process.env,
      HERALD_HOST: '127.0.0.1',
      HERALD_PORT: String(port),
      HERALD_ADMIN_TOKEN: 'refused-admin-token-1234',
      HERALD_LOG_LEVEL: 'warn',
      ...env,
    },
    stdio: ['ignore', 'pipe', 'pipe'],
  })
  let stdout = ''
  let stderr = ''
  child.stdout!.on('data', (d) => (stdout += d))
  child.stderr!.on('data', (d) => (stderr += d))
  // A node that does start would serve forever: give up on it (and fail) after 30 s.
  const guard = setTimeout(() => child.kill('SIGKILL'), 30_000)
  const code = await new Promise<number | null>((resolve) => child.once('exit', (c) => resolve(c)))
  clearTimeout(guard)
  return { code, stderr, stdout }
}

describe('the master key', () => {
  it('a second node with another master key on the same fresh PostgreSQL database refuses to start', async () => {
    const db = await createDatabase('herald_mkey_')
    databases.push(db)
    const first = randomBytes(32).toString('hex')
    const a = await herald({ env: { HERALD_DATABASE_URL: db.url, HERALD_MASTER_KEY: first } })
    const refused = await refusedStart({ HERALD_DATABASE_URL: db.url, HERALD_MASTER_KEY: randomBytes(32).toString('hex'), HERALD_DATA_DIR: tempDir() })
    expect(refused.code).not.toBe(0)
    expect(refused.stderr).toMatch(/herald could not start: .*HERALD_MASTER_KEY/)
    expect(refused.stderr).toMatch(/is not the master key of this database/)
    // The right key starts, and both nodes share what the first one made.
    const app = await createApp(a)
    const b = await herald({ env: { HERALD_DATABASE_URL: db.url, HERALD_MASTER_KEY: first } })
    expect((await publish(b, app, { channel: 'c', data: 1 })).status).toBe(200)
  })

  it('a node with another master key on an embedded database with no app yet refuses to start', async () => {
    const a = await herald()
    await a.stop()
    const refused = await refusedStart({ HERALD_DATA_DIR: a.dataDir, HERALD_MASTER_KEY: randomBytes(32).toString('hex') })
    expect(refused.code).not.toBe(0)
    expect(refused.stderr).toMatch(/HERALD_MASTER_KEY/)
  })
})

describe('a database file Herald cannot use', () => {
  it('held by another Herald process: the second refuses, naming the file; the first keeps serving', async () => {
    const a = await herald()
    const app = await createApp(a)
    const refused = await refusedStart({ HERALD_DATA_DIR: a.dataDir })
    expect(refused.code).not.toBe(0)
    expect(refused.stderr).toContain(join(a.dataDir, 'herald.db'))
    expect(refused.stderr).toMatch(/in use by another Herald process/)
    expect((await publish(a, app, { channel: 'c', data: 'still here' })).status).toBe(200)
  })

  it('corrupt: refuses, naming the file and the reason, and leaves it byte for byte as it was', async () => {
    const dataDir = tempDir()
    const file = join(dataDir, 'herald.db')
    const garbage = randomBytes(64 * 1024)
    writeFileSync(file, garbage)
    const refused = await refusedStart({ HERALD_DATA_DIR: dataDir })
    expect(refused.code).not.toBe(0)
    expect(refused.stderr).toContain(file)
    expect(refused.stderr).toMatch(/not a valid SQLite database or is corrupt/)
    expect(readFileSync(file).equals(garbage)).toBe(true)
  })

  it('read-only: refuses, naming the file, and leaves it as it was', async () => {
    const fs = mountTmpfs(16 << 20)
    mounts.push(fs)
    const dataDir = join(fs.dir, 'data')
    const h = await herald({ dataDir })
    const app = await createApp(h)
    expect((await publish(h, app, { channel: 'c', data: 1 })).status).toBe(200)
    expect(await h.stop('SIGTERM')).toEqual({ code: 0, signal: null })
    const before = readFileSync(join(dataDir, 'herald.db'))
    fs.remount('ro')
    const refused = await refusedStart({ HERALD_DATA_DIR: dataDir })
    expect(refused.code).not.toBe(0)
    expect(refused.stderr).toContain(join(dataDir, 'herald.db'))
    expect(refused.stderr).toMatch(/read-only/)
    expect(readFileSync(join(dataDir, 'herald.db')).equals(before)).toBe(true)
    fs.remount('rw')
    const again = await herald({ dataDir, adminToken: h.adminToken })
    expect((await history(again, app, 'c')).messages.map((m) => m.data)).toEqual([1])
  })
})

describe('a full disk', () => {
  it('fails publishes with 500 internal, acknowledges nothing it did not store, and recovers when space is freed', async () => {
    const fs = mountTmpfs(8 << 20)
    mounts.push(fs)
    const dataDir = join(fs.dir, 'data')
    mkdirSync(dataDir)
    const h = await herald({ dataDir })
    const app = await createApp(h, { historySize: 10_000, publishRatePerSecond: 1_000_000 })
    expect((await publish(h, app, { channel: 'c', id: 'before', data: 'ok' })).status).toBe(200)

    // Fill the disk to the last byte.
    const filler = join(fs.dir, 'filler')
    const fd = openSync(filler, 'w')
    for (const size of [1 << 20, 64 << 10, 4096, 512, 1]) {
      const chunk = Buffer.alloc(size, 1)
      try {
        for (;;) writeSync(fd, chunk)
      } catch (err) {
        if ((err as NodeJS.ErrnoException).code !== 'ENOSPC') throw err
      }
    }
    closeSync(fd)

    const acked: Array<{ id: string; seq: number }> = [{ id: 'before', seq: 1 }]
    let failed: { id: string; body: any } | null = null
    for (let i = 0; i < 400 && !failed; i++) {
      const id = `big-${i}`
      const res = await publish(h, app, { channel: 'c', id, data: 'x'.repeat(30_000) })
      if (res.status === 200) acked.push({ id, seq: res.body.messages[0].seq })
      else failed = { id, body: { status: res.status, ...res.body } }
    }
    expect(failed, 'a publish failed once the disk was full').not.toBeNull()
    expect(failed!.body).toMatchObject({ status: 500, error: { code: 'internal' } })

    unlinkSync(filler)
    const retry = await publish(h, app, { channel: 'c', id: failed!.id, data: 'after' })
    expect(retry.status).toBe(200)
    // Not a duplicate of something half-written: a new message, right after the last acknowledged one.
    expect(retry.body.messages[0].seq).toBe(acked.at(-1)!.seq + 1)
    const all = await history(h, app, 'c', 'limit=1000&after=0')
    expect(all.messages.map((m) => m.seq)).toEqual(acked.map((a) => a.seq).concat(acked.at(-1)!.seq + 1))
    expect(all.messages.map((m) => m.id)).toEqual(acked.map((a) => a.id).concat(failed!.id))
    expect(all.messages.at(-1)!.data).toBe('after')
    expect((await http(h.url, 'GET', '/readyz')).status).toBe(200)
  })
})
