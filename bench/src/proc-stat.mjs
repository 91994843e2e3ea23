// Reads a process's CPU time and memory from /proc (Linux only).
import { readFileSync } from 'node:fs'
import { execFileSync } from 'node:child_process'

/** Clock ticks per second for /proc/<pid>/stat times (`getconf CLK_TCK`, usually 100). */
export const CLK_TCK = (() => {
  try {
    return Number(execFileSync('getconf', ['CLK_TCK']).toString().trim()) || 100
  } catch {
    return 100
  }
})()

/**
 * utime + stime of a process in seconds (fields 14 and 15 of /proc/<pid>/stat).
 * @example const t0 = cpuSeconds(pid); ...; const used = cpuSeconds(pid) - t0
 */
export function cpuSeconds(pid) {
  const stat = readFileSync(`/proc/${pid}/stat`, 'utf8')
  // Field 2 (comm) may contain spaces; everything after the last ')' is space-separated from field 3.
  const rest = stat.slice(stat.lastIndexOf(')') + 2).split(' ')
  const utime = Number(rest[14 - 3])
  const stime = Number(rest[15 - 3])
  return (utime + stime) / CLK_TCK
}

/**
 * Resident set size of a process in bytes (VmRSS from /proc/<pid>/status).
 * @example const rss = rssBytes(server.pid)
 */
export function rssBytes(pid) {
  const status = readFileSync(`/proc/${pid}/status`, 'utf8')
  const m = /^VmRSS:\s+(\d+)\s+kB/m.exec(status)
  if (!m) throw new Error(`no VmRSS for pid ${pid}`)
  return Number(m[1]) * 1024
}
