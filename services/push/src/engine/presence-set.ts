import type { PresenceMember } from '@herald/protocol'

interface ClientEntry {
  member: PresenceMember
  connections: Set<string>
}

/**
 * Presence of one channel in one process: clientId -> its connections.
 * `add` reports a `join` when it is the clientId's first connection, `remove` returns the member when it was the last one (a `leave`).
 */
export class PresenceSet {
  private readonly clients = new Map<string, ClientEntry>()
  private readonly byConnection = new Map<string, string>()

  get size(): number {
    return this.byConnection.size
  }

  /**
   * Adds a connection. `join` is set when it is the clientId's first connection; `leave` when
   * the connection was present under another clientId that has no connection left.
   */
  add(connectionId: string, member: PresenceMember): { join?: PresenceMember; leave?: PresenceMember } {
    const out: { join?: PresenceMember; leave?: PresenceMember } = {}
    const previous = this.byConnection.get(connectionId)
    if (previous === member.clientId) return out
    if (previous !== undefined) {
      const left = this.remove(connectionId)
      if (left) out.leave = left
    }
    this.byConnection.set(connectionId, member.clientId)
    const entry = this.clients.get(member.clientId)
    if (entry) {
      entry.connections.add(connectionId)
      return out
    }
    const copy = copyMember(member)
    this.clients.set(member.clientId, { member: copy, connections: new Set([connectionId]) })
    out.join = copy
    return out
  }

  remove(connectionId: string): PresenceMember | null {
    const clientId = this.byConnection.get(connectionId)
    if (clientId === undefined) return null
    this.byConnection.delete(connectionId)
    const entry = this.clients.get(clientId)
    if (!entry) return null
    entry.connections.delete(connectionId)
    if (entry.connections.size > 0) return null
    this.clients.delete(clientId)
    return entry.member
  }

  members(): PresenceMember[] {
    return [...this.clients.values()].map((e) => copyMember(e.member))
  }
}

function copyMember(member: PresenceMember): PresenceMember {
  return member.info === undefined ? { clientId: member.clientId } : { clientId: member.clientId, info: member.info }
}
