import { useEffect, useRef } from 'react'

/**
 * Calls `tick` now and then every `intervalMs` after the previous call settled,
 * until the component unmounts or `deps` change. `tick` gets a signal that says
 * whether it is still current, so late replies can be dropped.
 * @example usePolling(async (live) => { const s = await api.stats(id); if (live()) setStats(s) }, 2000, [id])
 */
export function usePolling(tick: (live: () => boolean) => Promise<void>, intervalMs: number, deps: readonly unknown[]): void {
  const tickRef = useRef(tick)
  tickRef.current = tick
  useEffect(() => {
    let alive = true
    let timer: ReturnType<typeof setTimeout> | undefined
    const live = () => alive
    const run = async () => {
      try {
        await tickRef.current(live)
      } finally {
        if (alive) timer = setTimeout(run, intervalMs)
      }
    }
    void run()
    return () => {
      alive = false
      if (timer) clearTimeout(timer)
    }
    // eslint-disable-next-line react-hooks/exhaustive-deps
  }, [intervalMs, ...deps])
}
