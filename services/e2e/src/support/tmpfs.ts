import { execFileSync } from 'node:child_process'
import { mkdtempSync, rmdirSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'

/** A small tmpfs mounted for one test: a real disk that fills up, or turns read-only. Needs root. */
export interface Tmpfs {
  dir: string
  remount(mode: 'ro' | 'rw'): void
  /** Unmounts it (lazily, so a process still holding a file does not block) and removes the folder. */
  unmount(): void
}

/**
 * Mounts a tmpfs of `bytes` on a fresh folder. Unmount it in `afterAll`/`finally`.
 *
 * @example
 * const fs = mountTmpfs(8 << 20)
 * try { … } finally { fs.unmount() }
 */
export function mountTmpfs(bytes: number): Tmpfs {
  const dir = mkdtempSync(join(tmpdir(), 'herald-e2e-tmpfs-'))
  execFileSync('mount', ['-t', 'tmpfs', '-o', `size=${bytes},mode=0755`, 'tmpfs', dir])
  let mounted = true
  return {
    dir,
    remount: (mode) => execFileSync('mount', ['-o', `remount,${mode}`, dir]),
    unmount() {
      if (!mounted) return
      mounted = false
      execFileSync('umount', ['-l', dir])
      rmdirSync(dir)
    },
  }
}
