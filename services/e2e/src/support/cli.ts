import { spawn, type ChildProcess } from 'node:child_process'
import { fileURLToPath } from 'node:url'

/** The built `herald` command line (`npm test` builds before it tests). */
export const HERALD_BIN = fileURLToPath(new URL('../../../../cli/dist/main.js', import.meta.url))

export interface CliResult {
  code: number | null
  stdout: string
  stderr: string
}

/** The environment of a CLI run: no HERALD_* of the caller's shell leaks in. */
function cliEnv(env: Record<string, string>): NodeJS.ProcessEnv {
  const clean = Object.fromEntries(Object.entries(process.env).filter(([k]) => !k.startsWith('HERALD_')))
  return { ...clean, ...env }
}

/** Runs `herald …args` to its end. */
export function herald(args: string[], env: Record<string, string> = {}): Promise<CliResult> {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, [HERALD_BIN, ...args], { env: cliEnv(env), stdio: ['ignore', 'pipe', 'pipe'] })
    let stdout = ''
    let stderr = ''
    child.stdout.on('data', (d) => (stdout += d))
    child.stderr.on('data', (d) => (stderr += d))
    child.once('error', reject)
    child.once('close', (code) => resolve({ code, stdout, stderr }))
  })
}

/** A `herald` process that keeps running (subscribe, start), read line by line as it writes. */
export interface CliProcess {
  child: ChildProcess
  stdoutLines(): string[]
  stderrLines(): string[]
  /** Resolves with the first line (of stdout or stderr) matching, already written or still to come. */
  line(stream: 'stdout' | 'stderr', match: RegExp, timeoutMs?: number): Promise<string>
  /** Resolves with the exit code. */
  exited: Promise<number | null>
  stop(): Promise<number | null>
}

export function spawnHerald(args: string[], env: Record<string, string> = {}): CliProcess {
  const child = spawn(process.execPath, [HERALD_BIN, ...args], { env: cliEnv(env), stdio: ['ignore', 'pipe', 'pipe'] })
  const text = { stdout: '', stderr: '' }
  const waiters: Array<{ stream: 'stdout' | 'stderr'; match: RegExp; resolve: (line: string) => void }> = []
  const lines = (stream: 'stdout' | 'stderr') => text[stream].split('\n').slice(0, -1)
  const check = () => {
    for (const w of [...waiters]) {
      const found = lines(w.stream).find((l) => w.match.test(l))
      if (found !== undefined) {
        waiters.splice(waiters.indexOf(w), 1)
        w.resolve(found)
      }
    }
  }
  for (const stream of ['stdout', 'stderr'] as const) {
    child[stream]!.on('data', (d) => {
      text[stream] += d
      check()
    })
  }
  const exited = new Promise<number | null>((resolve) => child.once('close', (code) => resolve(code)))
  return {
    child,
    stdoutLines: () => lines('stdout'),
    stderrLines: () => lines('stderr'),
    exited,
    line(stream, match, timeoutMs = 20_000) {
      return new Promise<string>((resolve, reject) => {
        const output = () => `stdout:\n${text.stdout}\nstderr:\n${text.stderr}`
        let settled = false
        const timer = setTimeout(() => fail(`no ${stream} line matching ${match} within ${timeoutMs} ms`), timeoutMs)
        const fail = (why: string) => {
          if (settled) return
          settled = true
          clearTimeout(timer)
          reject(new Error(`${why}; ${output()}`))
        }
        waiters.push({
          stream,
          match,
          resolve: (line) => {
            if (settled) return
            settled = true
            clearTimeout(timer)
            resolve(line)
          },
        })
        check()
        // 'close' comes after the last output: a line not seen by then will not come
        exited.then(() => fail(`herald exited before a ${stream} line matching ${match}`))
      })
    },
    async stop() {
      if (child.exitCode === null && child.signalCode === null) child.kill('SIGTERM')
      return exited
    },
  }
}
