/** Handler of one event of a typed event map. */
export type Handler<T> = (context: T) => void

/**
 * A tiny typed event emitter: each event passes one context object.
 *
 * @example
 * const e = new Emitter<{ state: { current: string } }>()
 * const off = e.on('state', ({ current }) => console.log(current))
 * off()
 */
export class Emitter<Events extends object> {
  private handlers: { [K in keyof Events]?: Array<Handler<Events[K]>> } = {}

  /** Adds a handler; returns a function that removes it. */
  on<K extends keyof Events>(event: K, handler: Handler<Events[K]>): () => void {
    ;(this.handlers[event] ??= []).push(handler)
    return () => this.off(event, handler)
  }

  /** Removes a handler added with `on`. */
  off<K extends keyof Events>(event: K, handler: Handler<Events[K]>): void {
    const list = this.handlers[event]
    if (list) this.handlers[event] = list.filter((h) => h !== handler)
  }

  /** Calls every handler of `event`; a throwing handler does not stop the others. */
  protected emit<K extends keyof Events>(event: K, context: Events[K]): void {
    for (const h of this.handlers[event] ?? []) {
      try {
        h(context)
      } catch (err) {
        setTimeout(() => {
          throw err
        })
      }
    }
  }
}
