/**
 * Work done once at the end of this turn of the event loop (one shared `setImmediate`), in two
 * phases: `commit` (a broker storing what this turn published, then delivering it) runs before
 * `write` (the wires writing what was queued for their sockets). So what a commit delivers goes
 * out in the same turn, instead of waiting behind the writes of the turn before.
 *
 * A task queued while its phase runs waits for the next turn; a `write` task queued by a commit
 * runs in this one, after the microtasks the commits left (acknowledgements go first).
 *
 * @example
 * atTurnEnd('write', flushSockets)
 */
export type TurnPhase = 'commit' | 'write'

let commits: Array<() => void> = []
let writes: Array<() => void> = []
let scheduled = false

export function atTurnEnd(phase: TurnPhase, task: () => void): void {
  if (phase === 'commit') commits.push(task)
  else writes.push(task)
  schedule()
}

/**
 * Two immediates queued together run in the same check phase, one after the other, with the
 * microtasks of the first (a publish's acknowledgement after its commit) in between: an
 * acknowledgement does not wait for the sockets' writes.
 */
function schedule(): void {
  if (scheduled) return
  scheduled = true
  setImmediate(runCommits)
  setImmediate(runWrites)
}

function runCommits(): void {
  const c = commits
  commits = []
  for (const task of c) task()
}

function runWrites(): void {
  scheduled = false
  const w = writes
  writes = []
  for (const task of w) task()
  // Queued after their phase ran (by a task, or a microtask in between): the next turn's.
  if (commits.length > 0 || writes.length > 0) schedule()
}
