import { errorFromResponse, HeraldError } from './errors.js'
import { withRetries, type RetryPolicy } from './retry.js'

/** The `fetch` the SDK calls: the global one by default. */
export type FetchLike = (input: string, init: RequestInit) => Promise<Response>

export interface HttpClientOptions {
  /** Base URL of the service, without a trailing slash. */
  baseUrl: string
  authorization: string
  timeoutMs: number
  retry: RetryPolicy
  fetch: FetchLike
}

export interface RequestOptions {
  method: 'GET' | 'POST' | 'PATCH' | 'DELETE'
  /** Path with query, starting with `/`. */
  path: string
  body?: unknown
}

function transportError(error: unknown): HeraldError {
  if (error instanceof HeraldError) return error
  const name = (error as { name?: unknown } | null)?.name
  if (name === 'TimeoutError') return new HeraldError('timeout', 'request timed out', { cause: error })
  const message = error instanceof Error ? error.message : String(error)
  // undici says only "fetch failed"; the reason (ECONNREFUSED, ECONNRESET, …) is on `cause`.
  const cause = (error as { cause?: { code?: unknown; message?: unknown } } | null)?.cause
  const detail = typeof cause?.code === 'string' ? cause.code : typeof cause?.message === 'string' ? cause.message : ''
  return new HeraldError('network', `network error: ${message}${detail ? ` (${detail})` : ''}`, { cause: error })
}

/**
 * JSON over `fetch` with one `Authorization` header (Basic for an app key, Bearer for the admin token), a timeout per attempt and retries.
 * Node's global fetch (undici) keeps connections alive between calls by itself.
 */
export class HttpClient {
  constructor(private readonly options: HttpClientOptions) {}

  /**
   * Sends one request (retried by the policy) and returns the parsed JSON body.
   *
   * @example
   * await http.request({ method: 'GET', path: '/v1/apps/app_1/channels' })
   */
  request<T>(request: RequestOptions): Promise<T> {
    const body = request.body === undefined ? undefined : JSON.stringify(request.body)
    return withRetries(() => this.attempt<T>(request, body), this.options.retry)
  }

  private async attempt<T>(request: RequestOptions, body: string | undefined): Promise<T> {
    const headers: Record<string, string> = { authorization: this.options.authorization, accept: 'application/json' }
    if (body !== undefined) headers['content-type'] = 'application/json'
    let status: number
    let text: string
    let retryAfter: string | null
    try {
      const res = await this.options.fetch(this.options.baseUrl + request.path, {
        method: request.method,
        headers,
        body,
        signal: AbortSignal.timeout(this.options.timeoutMs),
      })
      status = res.status
      retryAfter = res.headers.get('retry-after')
      // Reading the body to its end also lets the connection go back to the keep-alive pool.
      text = await res.text()
    } catch (error) {
      throw transportError(error)
    }
    if (status < 200 || status >= 300) throw errorFromResponse(status, text, retryAfter)
    if (text.length === 0) return undefined as T
    try {
      return JSON.parse(text) as T
    } catch (error) {
      throw new HeraldError('internal', `invalid JSON in a ${status} response`, { status, cause: error })
    }
  }
}
