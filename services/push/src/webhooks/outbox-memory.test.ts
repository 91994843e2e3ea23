import { describeOutboxContract } from './outbox.contract.js'
import { MemoryOutbox } from './outbox-memory.js'

describeOutboxContract('memory', async () => {
  const outbox = new MemoryOutbox()
  return { outbox, apps: ['app_a', 'app_b'], deleteApp: async (appId) => outbox.forgetApp(appId), close: () => outbox.close() }
})
