/** Base64 of a string's UTF-8 bytes, without Buffer (edge runtimes have no Buffer). */
function base64Utf8(text: string): string {
  let binary = ''
  for (const byte of new TextEncoder().encode(text)) binary += String.fromCharCode(byte)
  return btoa(binary)
}

/**
 * The `Authorization` header for server-to-server REST calls.
 *
 * @example
 * basicAuthorization('key_1', 's3cret') // 'Basic a2V5XzE6czNjcmV0'
 */
export function basicAuthorization(keyId: string, secret: string): string {
  return 'Basic ' + base64Utf8(`${keyId}:${secret}`)
}
