import { HeraldProtocolError } from '@herald/protocol'

/**
 * An error from Herald (`code` is one of the contract's error codes) or from the SDK
 * itself (`disconnected`, `timeout`, `network`).
 */
export class HeraldError extends HeraldProtocolError {
  constructor(code: string, message: string, status?: number) {
    super(code, message, status === undefined ? {} : { status })
    this.name = 'HeraldError'
  }
}
