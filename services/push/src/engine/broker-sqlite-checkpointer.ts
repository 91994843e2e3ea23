import { once } from 'node:events'
import { statSync } from 'node:fs'
import { createRequire } from 'node:module'
import { Worker } from 'node:worker_threads'

export interface CheckpointerOptions {
  /** The database file (its `-wal` beside it). */
  file: string
  /** How often the WAL is copied back into the database (ms). Default 1000. */
  intervalMs?: number
  /** Past this WAL size, a checkpoint also restarts the WAL, briefly holding writers off (bytes). Default 64 MiB. */
  restartAboveBytes?: number
}

/** Runs in the worker: its own connection, a passive checkpoint per tick, a restarting one when the WAL grew large. */
const WORKER = `
const { workerData, parentPort } = require('node:worker_threads')
const { statSync } = require('node:fs')
const Database = require(workerData.module)
const db = new Database(workerData.file, { fileMustExist: true })
db.pragma('busy_timeout = 2000')
const walSize = () => { try { return statSync(workerData.file + '-wal').size } catch { return 0 } }
const tick = () => {
  try {
    db.pragma(walSize() > workerData.restartAboveBytes ? 'wal_checkpoint(TRUNCATE)' : 'wal_checkpoint(PASSIVE)')
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
    workerData: { module, file: options.file, intervalMs: options.intervalMs ?? 1000, restartAboveBytes: options.restartAboveBytes ?? 64 << 20 },
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
