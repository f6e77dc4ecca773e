/**
 * One job over an open printer connection (printerConnection.ts makes and keeps the connection). An ACK counts
 * only for a ticket already written and not yet acknowledged: the next ticket is written once the last one is
 * acknowledged, so a printer that ACKs twice per ticket, or a stray ACK, never confirms a ticket still to be
 * sent; and a printer in Boca's "delayed status" mode, which ACKs only after the last ticket it holds, ACKs every
 * ticket. Status bytes are read in the printer's form (ASCII_STATUS_PRINTERS); a chunk holding any byte that is
 * not Boca status ends the job as `foreign`: the device on that port does not speak Boca status, whatever other
 * bytes it sent.
 */
import type net from 'node:net'
import { decodeStatusByte, hex, type StatusEncoding } from '../boca/status.ts'
import type { PrinterReport } from '../protocol/index.ts'
import type { Logger } from '../runtime/logger.ts'
import type { Clock, TimerHandle } from './clock.ts'
import type { AttemptOptions, AttemptOutcome, AttemptResult, PrintTimeouts } from './printAttempt.ts'

export interface TicketExchangeDeps {
  socket: net.Socket
  /** The job cut into tickets (one piece per ticket when ACKs are expected). */
  pieces: readonly Buffer[]
  /** Filled in as the printer answers; its `expectedAcks` is the number of tickets to be acknowledged. */
  report: PrinterReport
  timeouts: PrintTimeouts
  options: AttemptOptions
  statusEncoding: StatusEncoding
  clock: Clock
  logger: Logger
}

export class TicketExchange {
  private readonly deps: TicketExchangeDeps
  /** The job's first byte is being written: bytes from the printer are about it from now on. */
  private writing = false
  /** Pieces handed to the socket. */
  private handed = 0
  /** The last piece handed to the socket has been accepted whole. */
  private flushed = false
  private bytesWritten = 0
  private surplusAcks = 0
  /** When the quiet gap before the next ticket began. */
  private settlingSince: number | undefined
  private settled = false
  private busy = false
  private timer: TimerHandle | undefined
  private resolve: (result: AttemptResult) => void = () => {}

  constructor (deps: TicketExchangeDeps) {
    this.deps = deps
  }

  /** Runs the exchange: resolves with its outcome, having left the socket as it found it (no listeners of its own). */
  run (): Promise<AttemptResult> {
    const { socket, options } = this.deps
    return new Promise((resolve) => {
      this.resolve = resolve
      socket.on('data', this.onData)
      socket.on('close', this.onClose)
      socket.on('error', this.onError)
      if (options.beforeWrite === undefined) this.write()
      else options.beforeWrite().then(() => this.write(), (error: unknown) => this.end({ kind: 'local', error: error as Error }))
    })
  }

  private get expectedAcks (): number {
    return this.deps.report.expectedAcks
  }

  /** Ends the exchange with `outcome` (once: later calls do nothing). */
  private end (outcome: AttemptOutcome): void {
    if (this.settled) return
    const { socket, pieces, report, clock, logger } = this.deps
    this.settled = true
    clock.clearTimeout(this.timer)
    socket.off('data', this.onData)
    socket.off('close', this.onClose)
    socket.off('error', this.onError)
    // Every ticket acknowledged: every byte was written, whether or not the last write's callback ran yet.
    if (outcome.kind === 'printed') this.bytesWritten = pieces.reduce((sum, piece) => sum + piece.length, 0)
    if (this.surplusAcks > 0) logger.warn({ surplusAcks: this.surplusAcks, acks: report.acks, expectedAcks: this.expectedAcks, statusBytes: report.statusBytes.slice(0, 32) }, 'the printer acknowledged more tickets than it was sent: extra ACKs not counted')
    this.resolve({ outcome, report, bytesWritten: this.bytesWritten })
  }

  private arm (ms: number, onExpire: () => void): void {
    this.deps.clock.clearTimeout(this.timer)
    this.timer = this.deps.clock.setTimeout(onExpire, ms)
  }

  private allAcknowledged (): boolean {
    return this.expectedAcks > 0 && this.deps.report.acks >= this.expectedAcks && this.handed === this.deps.pieces.length
  }

  /** Writes `piece` (`count` pieces of the job, 1 unless they go together unconfirmed), then runs `then`. */
  private writePiece (piece: Buffer, count: number, then: () => void): void {
    const { printerMs } = this.deps.timeouts
    this.handed += count
    this.flushed = false
    this.arm(printerMs, () => this.end({ kind: 'timeout', whileWriting: this.bytesWritten === 0, reason: `the printer took no bytes for ${printerMs} ms` }))
    this.deps.socket.write(piece, (error) => {
      if (error !== undefined && error !== null) return
      if (this.settled) return
      this.flushed = true
      this.bytesWritten += piece.length
      then()
    })
  }

  /** After a piece is accepted, or an ACK: the next piece, the end, or a wait for the printer. */
  private readonly advance = (): void => {
    if (this.allAcknowledged()) return this.end({ kind: 'printed' })
    if (this.settled || !this.flushed) return
    const { report, pieces, timeouts, clock } = this.deps
    if (report.acks >= this.handed && this.handed < pieces.length) {
      const settle = timeouts.ticketSettleMs ?? 0
      // A quiet gap after an ACK before the next ticket, restarted by anything the printer says in it, but
      // never longer in all than PRINTER_TIMEOUT_MS (a device that chatters on still gets the next ticket).
      this.settlingSince ??= clock.monotonic()
      const waited = clock.monotonic() - this.settlingSince
      if (settle > 0 && this.handed > 0 && waited < timeouts.printerMs) {
        return this.arm(Math.min(settle, timeouts.printerMs - waited), () => { this.settlingSince = undefined; this.writeNext() })
      }
      this.settlingSince = undefined
      return this.writeNext()
    }
    this.armSilence()
  }

  private writeNext (): void {
    this.writePiece(this.deps.pieces[this.handed] as Buffer, 1, this.advance)
  }

  /** The printer said nothing since the first ticket: it does not report status; the rest goes at once. */
  private sendRestUnconfirmed (): void {
    const { pieces } = this.deps
    if (this.handed === pieces.length) return this.end({ kind: 'sent' })
    const rest = pieces.slice(this.handed)
    this.writePiece(Buffer.concat(rest), rest.length, () => this.end({ kind: 'sent' }))
  }

  private armSilence (): void {
    const { report, timeouts, options } = this.deps
    if (report.acks === 0 && !this.busy && report.statusBytes.length === 0) {
      if (options.expectStatus === true) {
        this.arm(timeouts.printerMs, () => this.end({ kind: 'timeout', whileWriting: false, reason: `the printer, which reports status, said nothing for ${timeouts.printerMs} ms after taking the job` }))
      } else {
        this.arm(timeouts.statusWaitMs, () => this.sendRestUnconfirmed())
      }
    } else {
      this.arm(timeouts.printerMs, () => this.end({ kind: 'timeout', whileWriting: false, reason: `the printer went silent after ${report.acks} of ${this.expectedAcks} tickets` }))
    }
  }

  private readonly onError = (error: NodeJS.ErrnoException): void => {
    this.end({ kind: 'dropped', whileWriting: this.bytesWritten === 0, reason: error.code ?? error.message })
  }

  private readonly onClose = (): void => {
    if (this.allAcknowledged()) this.end({ kind: 'printed' })
    else this.end({ kind: 'dropped', whileWriting: this.bytesWritten === 0, reason: 'the printer closed the connection' })
  }

  private readonly onData = (chunk: Buffer): void => {
    if (!this.writing) return // stale bytes from before this job: not about it
    const { report, statusEncoding } = this.deps
    const statuses = Array.from(chunk, (byte) => decodeStatusByte(byte, statusEncoding))
    if (statuses.some((status) => status.kind === 'foreign')) return this.end({ kind: 'foreign', bytes: Buffer.from(chunk) })
    for (const status of statuses) {
      report.statusBytes.push(hex(status.byte))
      report.condition = status.condition
      if (status.kind === 'ack') {
        if (report.acks < this.handed) report.acks++
        else this.surplusAcks++
        // The last ticket acknowledged: the job printed, whatever the printer says next (that is about the next job).
        if (this.allAcknowledged()) return this.end({ kind: 'printed' })
      }
      if (status.kind === 'busy') this.busy = true
      if (status.kind === 'ready') this.busy = false
      if (status.kind === 'error') return this.end({ kind: 'fault', status })
    }
    this.advance()
  }

  private write (): void {
    if (this.settled) return
    const { pieces } = this.deps
    this.writing = true
    if (this.expectedAcks === 0) {
      this.writePiece(pieces.length === 1 ? pieces[0] as Buffer : Buffer.concat(pieces), pieces.length, () => this.end({ kind: 'sent' }))
      return
    }
    this.writeNext()
  }
}
