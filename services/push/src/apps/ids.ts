import { randomBytes } from 'node:crypto'

/** `app_` + 16 random bytes, base64url. */
export const newAppId = () => 'app_' + randomBytes(12).toString('base64url')
/** `key_` + random, base64url. */
export const newKeyId = () => 'key_' + randomBytes(12).toString('base64url')
/** 32 random bytes, base64url (the contract's minimum). */
export const newSecret = () => randomBytes(32).toString('base64url')
