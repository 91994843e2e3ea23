import WebSocket from 'ws'

export interface Frame {
  op: string
  [k: string]: any
}

/** A test WebSocket client that records frames and waits for the ones a test expects. */
export class WsClient {
  readonly frames: Frame[] = []
  readonly closed: Promise<{ code: number; reason: string }>
  private waiters: Array<{ pred: (f: Frame) => boolean; resolve: (f: Frame) => void }> = []
  private cursor = 0

  constructor(readonly ws: WebSocket) {
    ws.on('message', (data) => {
      const f = JSON.parse(String(data)) as Frame
      this.frames.push(f)
      for (const w of [...this.waiters]) {
        if (w.pred(f)) {
          this.waiters.splice(this.waiters.indexOf(w), 1)
          w.resolve(f)
        }
      }
    })
    this.closed = new Promise((resolve) => ws.on('close', (code, reason) => resolve({ code, reason: String(reason) })))
  }

  static async open(url: string, headers?: Record<string, string>): Promise<WsClient> {
    const ws = new WebSocket(url, { headers })
    const c = new WsClient(ws)
    await new Promise<void>((resolve, reject) => {
      ws.once('open', () => resolve())
      ws.once('error', reject)
    })
    return c
  }

  /** Opens and waits for the `connected` frame. */
  static async connect(url: string): Promise<WsClient> {
    const c = await WsClient.open(url)
    await c.next((f) => f.op === 'connected')
    return c
  }

  send(frame: unknown): void {
    this.ws.send(typeof frame === 'string' ? frame : JSON.stringify(frame))
  }

  /** The first frame (seen before or after now) matching, consumed in order. */
  next(pred: (f: Frame) => boolean, timeoutMs = 10_000): Promise<Frame> {
    for (let i = this.cursor; i < this.frames.length; i++) {
      if (pred(this.frames[i]!)) {
        this.cursor = i + 1
        return Promise.resolve(this.frames[i]!)
      }
    }
    return new Promise((resolve, reject) => {
      const t = setTimeout(() => reject(new Error('timed out waiting for a frame; got ' + JSON.stringify(this.frames.slice(-5)))), timeoutMs)
      this.waiters.push({
        pred,
        resolve: (f) => {
          clearTimeout(t)
          this.cursor = this.frames.indexOf(f) + 1
          resolve(f)
        },
      })
    })
  }

  /** Sends a frame with a ref and waits for the reply carrying it. */
  async request(frame: Record<string, unknown>): Promise<Frame> {
    const ref = Math.random().toString(36).slice(2)
    const p = this.next((f) => f.ref === ref)
    this.send({ ...frame, ref })
    return p
  }

  messages(channel?: string): Frame[] {
    return this.frames.filter((f) => f.op === 'message' && (!channel || f.channel === channel))
  }

  close(): void {
    this.ws.close()
  }
}

export async function until(cond: () => boolean | Promise<boolean>, timeoutMs = 10_000, what = 'condition'): Promise<void> {
  const deadline = Date.now() + timeoutMs
  while (!(await cond())) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`)
    await new Promise((r) => setTimeout(r, 20))
  }
}
