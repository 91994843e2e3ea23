/**
 * A publisher message id, made once per message before the first attempt, so that a retry
 * after a lost response is recognised by the service and not delivered twice.
 *
 * @example
 * newMessageId() // 'sdk_3b241101-e2bb-4255-8caf-4136c566a962'
 */
export function newMessageId(): string {
  return 'sdk_' + crypto.randomUUID()
}
