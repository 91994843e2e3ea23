import { once } from 'node:events'
import { statSync } from 'node:fs'
import { createRequire } from 'node:module'
import { Worker } from 'node:worker_threads'

export interface CheckpointerOptions {
  /** The database file (its `-wal` beside it). */
  file: string
  /** How often the WAL is copied back into the database (ms). Default 1000. */
  intervalMs?: number
  /** Past this WAL size, a checkpoint also truncates the WAL, briefly holding writers off (bytes). Default 16 MiB. */
  restartAboveBytes?: number
}

/** Runs in the worker: its own connection, passive checkpoints per tick, then a truncating one when the WAL grew past restartAboveBytes. */
const WORKER = `
const { workerData, parentPort } = require('node:worker_threads')
const { statSync } = require('node:fs')
const Database = require(workerData.module)
const db = new Database(workerData.file, { fileMustExist: true })
db.pragma('busy_timeout = 2000')
const walSize = () => { try { return statSync(workerData.file + '-wal').size } catch { return 0 } }
const tick = () => {
  try {
    // Passive passes copy the WAL into the database without blocking the publisher. Each copies
    // the frames there were when it began: the next has only those committed meanwhile. The
    // publisher restarts the WAL at its next commit once one pass found nothing new; under a
    // steady stream of commits that rarely happens, so past restartAboveBytes a truncating
    // checkpoint follows, which has little left to copy and holds writers off only briefly
    // (the broker tries a commit that finds the file locked again, off the event loop).
    let last = -1
    for (let i = 0; i < workerData.passes; i++) {
      const [r] = db.pragma('wal_checkpoint(PASSIVE)')
      if (r.busy || (r.log === last && r.checkpointed === r.log)) break
      last = r.log
    }
    if (walSize() > workerData.restartAboveBytes) db.pragma('wal_checkpoint(TRUNCATE)')
  } catch (err) {
    parentPort.postMessage({ error: String(err && err.message || err) })
  }
}
const timer = setInterval(tick, workerData.intervalMs)
parentPort.on('message', (m) => {
  if (m !== 'stop') return
  clearInterval(timer)
  tick()
  db.close()
  parentPort.close()
})
`

/**
 * Checkpoints the WAL from a worker thread, so the fsyncs of the database file never block
 * the event loop (the publishing connection runs with `wal_autocheckpoint = 0`). With
 * `synchronous = NORMAL`, a commit does not fsync either: publishes never wait on the disk.
 *
 * @example
 * const stop = startCheckpointer({ file })
 * db.pragma('wal_autocheckpoint = 0')
 * await stop()
 */
export function startCheckpointer(options: CheckpointerOptions & { onError?: (message: string) => void }): () => Promise<void> {
  const module = createRequire(import.meta.url).resolve('better-sqlite3')
  const worker = new Worker(WORKER, {
    eval: true,
    workerData: { module, file: options.file, intervalMs: options.intervalMs ?? 1000, restartAboveBytes: options.restartAboveBytes ?? 16 << 20, passes: 8 },
  })
  worker.unref()
  worker.on('message', (m: { error?: string }) => {
    if (m.error) options.onError?.(m.error)
  })
  worker.on('error', (err) => options.onError?.(err.message))
  let stopped: Promise<void> | null = null
  return () => {
    stopped ??= (async () => {
      if (worker.threadId === -1) return
      const exited = once(worker, 'exit')
      worker.postMessage('stop')
      await exited
    })()
    return stopped
  }
}

/** Size of the WAL file beside `file` (0 when there is none), for tests and metrics. */
export function walBytes(file: string): number {
  try {
    return statSync(`${file}-wal`).size
  } catch {
    return 0
  }
}
