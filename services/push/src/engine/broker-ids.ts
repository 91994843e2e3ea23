import { randomBytes } from 'node:crypto'

/** A new channel epoch: `e_` + 8 random bytes, base64url. */
export const newEpoch = (): string => 'e_' + randomBytes(8).toString('base64url')

/** A server-made message id: `m_` + 12 random bytes, base64url. */
export const newMessageId = (): string => 'm_' + randomBytes(12).toString('base64url')
