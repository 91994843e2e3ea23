/**
 * An error from Herald (`code` is one of the contract's error codes) or from the SDK
 * itself (`disconnected`, `timeout`, `network`).
 */
export class HeraldError extends Error {
  constructor(
    readonly code: string,
    message: string,
    readonly status?: number,
  ) {
    super(message)
    this.name = 'HeraldError'
  }
}
