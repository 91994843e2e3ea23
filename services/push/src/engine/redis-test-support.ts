import { randomBytes } from 'node:crypto'
import type { Redis } from 'ioredis'

/** The Redis the unit tests use (the shared one: never flushed; every test run has its own key prefix). */
export const TEST_REDIS_URL = 'redis://127.0.0.1:6379'

/** A key prefix of this test run only. */
export const newTestPrefix = (): string => 'herald-test-' + randomBytes(6).toString('hex')

/** Deletes every key under `prefix` (afterAll). */
export async function dropPrefix(admin: Redis, prefix: string): Promise<void> {
  let cursor = '0'
  do {
    const [next, keys] = await admin.scan(cursor, 'MATCH', `${prefix}:*`, 'COUNT', 1000)
    cursor = next
    if (keys.length > 0) await admin.unlink(...keys)
  } while (cursor !== '0')
}
