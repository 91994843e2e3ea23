import { mkdtempSync, rmSync, statSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { afterAll, describe, expect, it } from 'vitest'
import { openSqliteFile } from '../sqlite-file.js'
import { waitFor } from './broker.contract.js'
import { startCheckpointer, walBytes } from './broker-sqlite-checkpointer.js'

const dirs: string[] = []
afterAll(() => {
  for (const d of dirs) rmSync(d, { recursive: true, force: true })
})

function writer(): { file: string; write: (n: number) => void; close: () => void } {
  const dir = mkdtempSync(join(tmpdir(), 'herald-checkpoint-'))
  dirs.push(dir)
  const file = join(dir, 'herald.db')
  const db = openSqliteFile(file)
  db.pragma('wal_autocheckpoint = 0')
  db.exec('CREATE TABLE t (x TEXT)')
  const insert = db.prepare('INSERT INTO t VALUES (?)')
  const write = db.transaction((n: number) => {
    for (let i = 0; i < n; i++) insert.run('x'.repeat(1000))
  })
  return { file, write, close: () => db.close() }
}

describe('startCheckpointer', () => {
  it('copies committed pages from the WAL into the database file from a worker thread', async () => {
    const w = writer()
    w.write(2000) // ~2 MB, all in the WAL: nothing checkpoints on commit
    expect(statSync(w.file).size).toBeLessThan(100_000)
    const stop = startCheckpointer({ file: w.file, intervalMs: 20 })
    await waitFor(() => statSync(w.file).size > 1_500_000)
    await stop()
    w.close()
  })

  it('restarts (truncates) a WAL that grew past the limit, so it stays bounded under steady writes', async () => {
    const w = writer()
    const stop = startCheckpointer({ file: w.file, intervalMs: 20, restartAboveBytes: 256 << 10 })
    w.write(1000)
    expect(walBytes(w.file)).toBeGreaterThan(256 << 10)
    await waitFor(() => walBytes(w.file) === 0)
    await stop()
    await stop() // idempotent
    w.close()
  })
})
