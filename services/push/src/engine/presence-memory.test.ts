import { presenceContract } from './presence.contract.js'
import { MemoryPresence } from './presence-memory.js'

presenceContract('memory', {
  shared: false,
  async start(rec) {
    const presence = new MemoryPresence()
    await presence.start(rec)
    return { presence, listen: async () => {}, close: () => presence.close() }
  },
})
