import type { PresenceMember } from '@herald/protocol'

interface ClientEntry {
  member: PresenceMember
  connections: Set<string>
}

/**
 * Presence of one channel in one process: clientId -> its connections.
 * `add` returns the member when it is the clientId's first connection (a `join`),
 * `remove` returns it when it was the last one (a `leave`).
 */
export class PresenceSet {
  private readonly clients = new Map<string, ClientEntry>()
  private readonly byConnection = new Map<string, string>()

  get size(): number {
    return this.byConnection.size
  }

  add(connectionId: string, member: PresenceMember): PresenceMember | null {
    const previous = this.byConnection.get(connectionId)
    if (previous !== undefined) {
      if (previous === member.clientId) return null
      this.remove(connectionId)
    }
    this.byConnection.set(connectionId, member.clientId)
    const entry = this.clients.get(member.clientId)
    if (entry) {
      entry.connections.add(connectionId)
      return null
    }
    const copy = copyMember(member)
    this.clients.set(member.clientId, { member: copy, connections: new Set([connectionId]) })
    return copy
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
