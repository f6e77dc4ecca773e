/**
 * Aedes has no maximum packet size: it buffers a packet whole, however large its announced length. This
 * duplex sits between a client's transport and Aedes, follows MQTT's framing (a fixed-header byte, then the
 * remaining length in 1-4 bytes), and destroys the connection as soon as a packet announces more than
 * `maxPacketBytes`, before its body is read. Bytes pass through unchanged and are never held back.
 */
import { Duplex } from 'node:stream'

export interface PacketSizeGuardDeps {
  inner: Duplex
  maxPacketBytes: number
  /** Told once, when a client's packet is refused. */
  onOversize: (announcedBytes: number) => void
}

type ScanState = 'type' | 'length' | 'body'

export class PacketSizeGuard extends Duplex {
  private readonly inner: Duplex
  private readonly maxPacketBytes: number
  private readonly onOversize: (announcedBytes: number) => void
  private state: ScanState = 'type'
  private length = 0
  private multiplier = 1
  private lengthBytes = 0
  private remaining = 0

  constructor (deps: PacketSizeGuardDeps) {
    super({ allowHalfOpen: false })
    this.inner = deps.inner
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

  override _write (chunk: Buffer, encoding: BufferEncoding, callback: (error?: Error | null) => void): void {
    if (this.inner.destroyed) {
      callback()
      return
    }
    this.inner.write(chunk, encoding, callback)
  }

  override _final (callback: (error?: Error | null) => void): void {
    this.inner.end(callback)
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
