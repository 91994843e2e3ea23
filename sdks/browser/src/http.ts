import type { ErrorBody } from '@herald/protocol'
import { HeraldError } from './errors.js'

/** The `fetch` the SDK uses (the browser's, or one given in the options). */
export type Fetch = typeof fetch

/** Turns a non-2xx reply into a {@link HeraldError} from its `{"error":{code,message}}` body. */
export async function errorFrom(res: Response): Promise<HeraldError> {
  let body: Partial<ErrorBody> = {}
  try {
    body = (await res.json()) as Partial<ErrorBody>
  } catch {}
  const code = body.error?.code ?? (res.status === 401 ? 'unauthorized' : res.status === 403 ? 'forbidden' : 'internal')
  return new HeraldError(code, body.error?.message ?? `HTTP ${res.status}`, res.status)
}

/** Calls the HTTP API with the client token as `Bearer`, JSON in and out. */
export async function requestJson<T>(doFetch: Fetch, url: string, token: string | undefined, body?: unknown): Promise<T> {
  const headers: Record<string, string> = {}
  if (token) headers.authorization = `Bearer ${token}`
  if (body !== undefined) headers['content-type'] = 'application/json'
  let res: Response
  try {
    res = await doFetch(url, { method: body === undefined ? 'GET' : 'POST', headers, body: body === undefined ? null : JSON.stringify(body) })
  } catch (err) {
    throw new HeraldError('network', String(err))
  }
  if (!res.ok) throw await errorFrom(res)
  return (await res.json()) as T
}
