/**
 * The platform's own Response class: @hono/node-server swaps the global `Response` for a
 * subclass whose fast path ignores `x-hono-already-sent`; its prototype's parent is the real one.
 */
const NativeResponse: typeof Response = (() => {
  const parent = Object.getPrototypeOf(Response.prototype) as { constructor: typeof Response } | null
  return parent && parent !== Object.prototype ? parent.constructor : Response
})()

/** Tells the Node adapter that the handler wrote the response itself (to `c.env.outgoing`). */
export function alreadySent(): Response {
  return new NativeResponse(null, { headers: { 'x-hono-already-sent': 'true' } })
}
