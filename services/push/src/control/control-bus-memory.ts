import type { ControlBus, ControlEvent } from './control-bus.js'

/** The single-process control bus: events go straight back to the local node. */
export class MemoryControlBus implements ControlBus {
  private handler: ((event: ControlEvent) => void) | null = null

  async start(onEvent: (event: ControlEvent) => void): Promise<void> {
    this.handler = onEvent
  }

  async emit(event: ControlEvent): Promise<void> {
    this.handler?.(event)
  }

  async close(): Promise<void> {
    this.handler = null
  }
}
