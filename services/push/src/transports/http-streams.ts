import { OpenAPIHono } from '@hono/zod-openapi'
import type { NodeContext } from '../context.js'

/**
 * The HTTP streaming transports: Server-Sent Events (`/v1/apps/:appId/sse`) and long-poll /
 * poll (`/v1/apps/:appId/poll`). Being written (issue 3): no routes yet.
 */
export class HttpStreams {
  constructor(private readonly ctx: NodeContext) {}

  /** Routes mounted under `/v1`. */
  routes(): OpenAPIHono {
    void this.ctx
    return new OpenAPIHono()
  }

  /** Ends every open stream and answers every held poll (shutdown). */
  closeAll(_code: number, _reason: string): void {}
}
