import type { Hook } from '@hono/zod-openapi'
import { HeraldError } from '../errors.js'

/**
 * The `defaultHook` of every OpenAPI route: a request that does not match its schema gets
 * `bad_request` naming the first problem, instead of zod's raw issue list.
 */
// biome-ignore lint/suspicious/noExplicitAny: one hook for every route, whatever its input, env, path and output types
export const validationHook: Hook<any, any, any, any> = (result) => {
  if (result.success) return
  const issue = result.error.issues[0]
  const where = issue && issue.path.length > 0 ? issue.path.join('.') + ': ' : ''
  throw new HeraldError('bad_request', `${where}${issue?.message ?? 'invalid request'}`)
}
