/**
 * The wait before retry number `failures` (1 after the first failed attempt): exponential from
 * `baseMs`, capped at `maxMs`, with "equal jitter" — between half and all of that — so
 * receivers that failed together are not all retried in the same instant.
 *
 * @example
 * retryDelay(3, { baseMs: 1000, maxMs: 60_000 }, Math.random) // 2000..4000
 */
export function retryDelay(failures: number, bounds: { baseMs: number; maxMs: number }, random: () => number): number {
  const exp = Math.min(bounds.maxMs, bounds.baseMs * 2 ** Math.max(0, Math.min(failures - 1, 40)))
  return Math.round(exp / 2 + random() * (exp / 2))
}
