/**
 * Aedes has no maximum packet size: it buffers a packet whole, however large its announced length. This
 * duplex sits between a client's transport and Aedes, follows MQTT's framing (a fixed-header byte, then the
 * remaining length in 1-4 bytes), and destroys the connection as soon as a packet announces more than
 * `maxPacketBytes`, before its body is read. Bytes pass through unchanged; what Aedes writes in one tick is
 * written to the transport at once (see `_write`).
 */
import { Duplex } from 'node:stream'

export interface PacketSizeGuardDeps {
  inner: Duplex
  /** The client's address, for the parts of the broker that see only this stream (log-in backoff). */
  remoteAddress?: string | undefined
  maxPacketBytes: number
  /** Told once, when a client's packet is refused. */
  onOversize: (announcedBytes: number) => void
}

type ScanState = 'type' | 'length' | 'body'

/** Pieces written in one tick are copied into one buffer up to this size. */
const COALESCE_MAX_BYTES = 64 * 1024

export class PacketSizeGuard extends Duplex {
  readonly remoteAddress: string | undefined
  private readonly inner: Duplex
  private readonly maxPacketBytes: number
  private readonly onOversize: (announcedBytes: number) => void
  private state: ScanState = 'type'
  private length = 0
  private multiplier = 1
  private lengthBytes = 0
  private remaining = 0
  private outgoing: Buffer[] = []
  private outgoingBytes = 0
  private flushScheduled = false
  private transportFull = false
  private heldCallbacks: Array<() => void> = []

  constructor (deps: PacketSizeGuardDeps) {
    super({ allowHalfOpen: false })
    this.inner = deps.inner
    this.remoteAddress = deps.remoteAddress
    this.maxPacketBytes = deps.maxPacketBytes
    this.onOversize = deps.onOversize
    this.inner.on('data', (chunk: Buffer) => this.forward(chunk))
    this.inner.once('end', () => this.push(null))
    this.inner.once('error', (error) => this.destroy(error))
    this.inner.once('close', () => { if (!this.destroyed) this.destroy() })
  }

  override _read (): void {
    this.inner.resume()
  }

  /**
   * Aedes writes each packet in several small pieces (mqtt-packet's writeToStream: header, length, topic,
   * payload). With TCP_NODELAY each would go out as a segment of its own, and each WebSocket write as a frame
   * of its own: the pieces written in one tick are gathered and written once, on the next.
   */
  override _write (chunk: Buffer, _encoding: BufferEncoding, callback: (error?: Error | null) => void): void {
    if (this.inner.destroyed) {
      callback()
      return
    }
    this.outgoing.push(chunk)
    this.outgoingBytes += chunk.length
    if (!this.flushScheduled) {
      this.flushScheduled = true
      process.nextTick(() => this.flushOutgoing())
    }
    // Backpressure: while the transport is full, Aedes's writes wait (it waits for `drain`).
    if (this.transportFull) this.heldCallbacks.push(callback)
    else callback()
  }

  override _final (callback: (error?: Error | null) => void): void {
    this.flushOutgoing()
    this.inner.end(callback)
  }

  private flushOutgoing (): void {
    this.flushScheduled = false
    if (this.outgoing.length === 0 || this.inner.destroyed) return
    const pieces = this.outgoing
    const bytes = this.outgoingBytes
    this.outgoing = []
    this.outgoingBytes = 0
    let room: boolean
    if (bytes <= COALESCE_MAX_BYTES) {
      room = this.inner.write(pieces.length === 1 ? pieces[0] as Buffer : Buffer.concat(pieces, bytes))
    } else {
      // A big payload is not copied: its pieces go as they are.
      room = true
      for (const piece of pieces) room = this.inner.write(piece)
    }
    if (!room && !this.transportFull) {
      this.transportFull = true
      this.inner.once('drain', () => {
        this.transportFull = false
        for (const held of this.heldCallbacks.splice(0)) held()
      })
    }
  }

  override _destroy (error: Error | null, callback: (error?: Error | null) => void): void {
    this.inner.destroy()
    callback(error)
  }

  private forward (chunk: Buffer): void {
    const oversize = this.scan(chunk)
    if (oversize !== undefined) {
      this.onOversize(oversize)
      const error = Object.assign(new Error(`packet of ${oversize} bytes exceeds the limit of ${this.maxPacketBytes}`), { code: 'PACKET_TOO_LARGE' })
      this.inner.destroy()
      this.destroy(error)
      return
    }
    if (!this.push(chunk)) this.inner.pause()
  }

  /** Follows the framing through `chunk`; the announced size of the first oversize packet, if any. */
  private scan (chunk: Buffer): number | undefined {
    let i = 0
    while (i < chunk.length) {
      if (this.state === 'type') {
        i++
        this.state = 'length'
        this.length = 0
        this.multiplier = 1
        this.lengthBytes = 0
      } else if (this.state === 'length') {
        const byte = chunk[i++] as number
        this.length += (byte & 0x7f) * this.multiplier
        this.multiplier *= 128
        this.lengthBytes++
        if ((byte & 0x80) === 0) {
          if (this.length > this.maxPacketBytes) return this.length
          this.remaining = this.length
          this.state = this.remaining === 0 ? 'type' : 'body'
        } else if (this.lengthBytes === 4) {
          return Number.POSITIVE_INFINITY // malformed: more than 4 length bytes
        }
      } else {
        const step = Math.min(this.remaining, chunk.length - i)
        i += step
        this.remaining -= step
        if (this.remaining === 0) this.state = 'type'
      }
    }
    return undefined
  }
}
