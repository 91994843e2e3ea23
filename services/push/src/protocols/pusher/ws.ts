import { PusherErrorCodes } from '@herald/protocol'
import type { WebSocket } from 'ws'
import { frameText, type WsInput, type WsLogger, WsOutput } from '../ws-output.js'
import type { PusherConnection, PusherOutput } from './connection.js'
import { pusherWsFormat } from './format.js'
import { pusherError } from './frames.js'

/**
 * The Pusher WebSocket as a {@link PusherOutput}: complete frames, a message's frame shared by
 * every Pusher socket, written once per turn of the event loop (the shared {@link WsOutput}).
 */
export class PusherWsOutput implements PusherOutput<Buffer>, WsInput {
  readonly kind = 'pusher-ws'
  readonly format = pusherWsFormat
  private readonly out: WsOutput
  private conn: PusherConnection<Buffer> | null = null

  constructor(ws: WebSocket, logger: WsLogger) {
    this.out = new WsOutput(ws, logger)
  }

  /** Admits the socket: its text frames (first those that came in meanwhile) go to `conn`. */
  listen(conn: PusherConnection<Buffer>): void {
    this.conn = conn
    this.out.listen(this)
  }

  socketFrame(data: Buffer, isBinary: boolean): void {
    const conn = this.conn as PusherConnection<Buffer>
    if (!isBinary) conn.receive(data.toString('utf8'))
    else conn.session.account(this.write(this.frame(pusherError(PusherErrorCodes.badFrame, 'binary frames are not supported; send JSON text'))))
  }

  socketClosed(code: number, reason: string): void {
    this.conn?.session.closed(code, reason)
  }

  frame(text: string): Buffer {
    return frameText(Buffer.from(text))
  }

  write(chunk: Buffer): number {
    return this.out.write(chunk)
  }

  bufferedBytes(): number {
    return this.out.bufferedBytes()
  }

  close(code: number, reason: string, discard: boolean): void {
    this.out.close(code, reason, { discard })
  }
}
