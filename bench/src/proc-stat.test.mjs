import { spawn } from 'node:child_process'
import { afterEach, describe, expect, it } from 'vitest'
import { CLK_TCK, cpuSeconds, rssBytes } from './proc-stat.mjs'

let child
afterEach(() => child?.kill('SIGKILL'))

/** A child that burns CPU for `ms`, then allocates and touches `mb` MiB, then waits. */
function worker(ms, mb) {
  child = spawn(process.execPath, ['-e', `const end=Date.now()+${ms};while(Date.now()<end);globalThis.b=Buffer.alloc(${mb}*2**20,1);console.log('done');setInterval(()=>{},1000)`], { stdio: ['ignore', 'pipe', 'inherit'] })
  return new Promise((resolve) => child.stdout.once('data', resolve))
}

describe('proc-stat', () => {
  it('reads CLK_TCK from getconf', () => {
    expect(CLK_TCK).toBeGreaterThan(0)
  })

  it("measures another process's CPU seconds and RSS from /proc", async () => {
    const started = worker(600, 64)
    const rss0 = rssBytes(child.pid)
    await started
    const cpu = cpuSeconds(child.pid)
    expect(cpu).toBeGreaterThanOrEqual(0.4) // busy-waited 0.6 s of its own CPU
    expect(rssBytes(child.pid) - rss0).toBeGreaterThan(48 * 2 ** 20)
  })
})
