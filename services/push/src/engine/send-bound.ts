/**
 * Bytes one turn of the event loop may queue for one client on top of HERALD_SEND_BUFFER_BYTES:
 * twice the largest request body (8 MiB). One legal batch (100 × 64 KiB) can be larger than
 * the bound, and a client that reads it fine is not a slow consumer.
 */
export const TURN_ALLOWANCE_BYTES = 16 * 1024 * 1024

let turn = 0
let scheduled = false

/**
 * A number that changes once per turn of the event loop (one shared `setImmediate`), so a
 * writer can tell bytes written in this turn from a backlog left by earlier ones.
 *
 * @example
 * if (this.turn !== currentTurn()) { this.turn = currentTurn(); this.turnBytes = 0 }
 */
export function currentTurn(): number {
  if (!scheduled) {
    scheduled = true
    setImmediate(() => {
      turn++
      scheduled = false
    })
  }
  return turn
}
