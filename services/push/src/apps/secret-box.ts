import { createCipheriv, createDecipheriv, randomBytes } from 'node:crypto'

/**
 * Encrypts app key secrets at rest with the master key (AES-256-GCM).
 * Stored form: `v1.` + base64url(iv[12] | tag[16] | ciphertext).
 *
 * @example
 * const box = new SecretBox(masterKey)
 * const stored = box.seal('s3cret'); box.open(stored) === 's3cret'
 */
export class SecretBox {
  constructor(private readonly key: Buffer) {
    if (key.length !== 32) throw new Error('master key must be 32 bytes')
  }

  seal(plain: string): string {
    const iv = randomBytes(12)
    const cipher = createCipheriv('aes-256-gcm', this.key, iv)
    const body = Buffer.concat([cipher.update(plain, 'utf8'), cipher.final()])
    return 'v1.' + Buffer.concat([iv, cipher.getAuthTag(), body]).toString('base64url')
  }

  /** Throws when the value was not sealed with this master key (wrong key or tampered). */
  open(stored: string): string {
    if (!stored.startsWith('v1.')) throw new Error('unknown secret encoding')
    const raw = Buffer.from(stored.slice(3), 'base64url')
    const decipher = createDecipheriv('aes-256-gcm', this.key, raw.subarray(0, 12))
    decipher.setAuthTag(raw.subarray(12, 28))
    return Buffer.concat([decipher.update(raw.subarray(28)), decipher.final()]).toString('utf8')
  }
}
