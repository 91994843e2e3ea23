import type { WebSocket } from 'ws'
import { frameText, WsOutput } from '../ws-output.js'
import type { PusherOutput } from './connection.js'
import { pusherWsFormat } from './format.js'

/**
 * The Pusher WebSocket as a {@link PusherOutput}: complete frames, a message's frame shared by
 * every Pusher socket, written once per turn of the event loop (the shared {@link WsOutput}).
 */
export class PusherWsOutput implements PusherOutput<Buffer> {
  readonly kind = 'pusher-ws'
  readonly format = pusherWsFormat
  private readonly out: WsOutput

  constructor(ws: WebSocket) {
    this.out = new WsOutput(ws)
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
