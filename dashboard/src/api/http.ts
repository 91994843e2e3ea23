import { errorCodeForStatus } from '@herald/protocol'
import { ApiError } from './api-error.js'

/**
 * Sends one JSON request and returns the parsed reply (undefined for 204).
 * Error replies become an `ApiError` with the server's code and message.
 * @example await requestJson('GET', '/admin/v1/apps', { authorization: 'Bearer …' })
 */
export async function requestJson<T>(method: string, url: string, headers: Record<string, string>, body?: unknown): Promise<T> {
  let res: Response
  try {
    res = await fetch(url, {
      method,
      headers: body === undefined ? headers : { ...headers, 'content-type': 'application/json' },
      body: body === undefined ? undefined : JSON.stringify(body),
      cache: 'no-store',
      credentials: 'omit',
    })
  } catch (err) {
    throw new ApiError(0, 'network', err instanceof Error ? err.message : String(err))
  }
  if (res.status === 204) return undefined as T
  const text = await res.text()
  let parsed: unknown
  try {
    parsed = text ? JSON.parse(text) : undefined
  } catch {
    parsed = undefined
  }
  if (!res.ok) {
    const error = (parsed as { error?: { code?: string; message?: string } } | undefined)?.error
    throw new ApiError(res.status, error?.code ?? errorCodeForStatus(res.status), error?.message ?? `HTTP ${res.status} ${res.statusText}`.trim())
  }
  return parsed as T
}
