import { execFileSync } from 'node:child_process'
import { mkdtempSync, rmdirSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'

/**
 * Runs `fn` on a fresh tmpfs of `bytes` (a real small disk that fills up, or turns read-only
 * with `remount('ro')`), and always unmounts it afterwards. Needs root (`mount`); a test using
 * it fails, not skips, without it. Close every file on it inside `fn`.
 *
 * @example
 * await withTmpfs(4 << 20, async (dir, remount) => { … remount('ro') … })
 */
export async function withTmpfs<T>(bytes: number, fn: (dir: string, remount: (mode: 'ro' | 'rw') => void) => Promise<T> | T): Promise<T> {
  const dir = mkdtempSync(join(tmpdir(), 'herald-tmpfs-'))
  execFileSync('mount', ['-t', 'tmpfs', '-o', `size=${bytes},mode=0755`, 'tmpfs', dir])
  try {
    return await fn(dir, (mode) => execFileSync('mount', ['-o', `remount,${mode}`, dir]))
  } finally {
    execFileSync('umount', ['-l', dir])
    rmdirSync(dir)
  }
}
