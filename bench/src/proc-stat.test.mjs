import { spawn } from 'node:child_process'
import { afterEach, describe, expect, it } from 'vitest'
import { CLK_TCK, cpuSeconds, rssBytes } from './proc-stat.mjs'

let child
afterEach(() => child?.kill('SIGKILL'))

/** A child that spins until its own CPU time reaches 0.5 s, allocates and touches 64 MiB, and prints its cpuUsage. */
function worker() {
  const code = `const used=()=>{const u=process.cpuUsage();return (u.user+u.system)/1e6};while(used()<0.5);globalThis.b=Buffer.alloc(64*2**20,1);console.log(used());setInterval(()=>{},1000)`
  child = spawn(process.execPath, ['-e', code], { stdio: ['ignore', 'pipe', 'inherit'] })
  return new Promise((resolve) => child.stdout.once('data', (d) => resolve(Number(String(d)))))
}

describe('proc-stat', () => {
  it('reads CLK_TCK from getconf', () => {
    expect(CLK_TCK).toBeGreaterThan(0)
  })

  it("measures another process's CPU seconds and RSS from /proc", async () => {
    const started = worker()
    const rss0 = rssBytes(child.pid)
    const ownCpu = await started
    const cpu = cpuSeconds(child.pid)
    expect(ownCpu).toBeGreaterThanOrEqual(0.5)
    // /proc counts in whole ticks; the child has done a little more work since it printed
    expect(cpu).toBeGreaterThanOrEqual(ownCpu - 2 / CLK_TCK)
    expect(cpu).toBeLessThan(ownCpu + 0.5)
    expect(rssBytes(child.pid) - rss0).toBeGreaterThan(48 * 2 ** 20)
  })
})
