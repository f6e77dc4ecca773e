/**
 * Two connected in-memory duplex streams: what is written to one is read from the other. An in-process MQTT
 * connection (a client library in the same process as the broker, or as the web server's token gateway) uses one
 * end as the client's transport and hands the other to the server. Either end ending or being destroyed ends the
 * other. (Node 20 has no `stream.duplexPair`; it came in Node 22.6.)
 */
import { Duplex } from 'node:stream'

class PairEnd extends Duplex {
  peer: PairEnd | undefined
  /** The peer's write callbacks held while this end's reader is full. */
  private held: Array<() => void> = []

  constructor () {
    super({ allowHalfOpen: false })
  }

  override _read (): void {
    for (const callback of this.held.splice(0)) callback()
  }

  override _write (chunk: Buffer, _encoding: BufferEncoding, callback: (error?: Error | null) => void): void {
    const peer = this.peer
    if (peer === undefined || peer.destroyed) { callback(new Error('the other end is closed')); return }
    if (peer.push(chunk)) callback()
    else peer.held.push(() => callback())
  }

  override _final (callback: (error?: Error | null) => void): void {
    this.peer?.push(null)
    callback()
  }

  override _destroy (error: Error | null, callback: (error?: Error | null) => void): void {
    const peer = this.peer
    this.peer = undefined
    for (const held of this.held.splice(0)) held()
    if (peer !== undefined && !peer.destroyed) {
      peer.push(null)
      peer.destroy()
    }
    callback(error)
  }
}

/** `[a, b]`: bytes written to `a` are read from `b`, and the other way round. */
export function duplexPair (): [Duplex, Duplex] {
  const a = new PairEnd()
  const b = new PairEnd()
  a.peer = b
  b.peer = a
  return [a, b]
}
