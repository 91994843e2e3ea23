import { randomBytes } from 'node:crypto'

/** A new channel epoch: `e_` + 8 random bytes, base64url. */
export const newEpoch = (): string => 'e_' + randomBytes(8).toString('base64url')

// Message ids only need to be unique, not secret: a random per-process prefix (9 bytes) and a
// counter make them unique across nodes and restarts without a crypto call per message.
const prefix = 'm_' + randomBytes(9).toString('base64url')
let counter = 0

/** A server-made message id: `m_` + a random per-process prefix + a counter (base 36). */
export const newMessageId = (): string => prefix + (counter++).toString(36)
