import type { Occupancy, OccupancyChange } from './occupancy.js'

/** Occupancy of one process (the embedded default): plain counts. */
export class MemoryOccupancy implements Occupancy {
  private readonly counts = new Map<string, number>()

  /** One process: nothing can die and leave holdings behind. */
  async start(_onGone: (appId: string, key: string) => void, _onRestored?: (appId: string, key: string, count: number) => void): Promise<void> {}

  async enter(appId: string, key: string): Promise<OccupancyChange> {
    const k = appId + '|' + key
    const count = (this.counts.get(k) ?? 0) + 1
    this.counts.set(k, count)
    return { edge: count === 1, count }
  }

  async leave(appId: string, key: string): Promise<OccupancyChange> {
    const k = appId + '|' + key
    const before = this.counts.get(k) ?? 0
    if (before <= 1) this.counts.delete(k)
    else this.counts.set(k, before - 1)
    return { edge: before === 1, count: Math.max(0, before - 1) }
  }

  async forgetApp(appId: string): Promise<void> {
    for (const k of this.counts.keys()) if (k.startsWith(appId + '|')) this.counts.delete(k)
  }

  async stop(): Promise<void> {}
}
