/**
 * The relay's TCP connection to one raw TCP/9100 printer, kept open between jobs while they keep coming.
 * A Boca takes one connection at a time and resets an idle one after 30 s when another application
 * waits (BOCA.md "Network"), so the connection is closed gracefully once no job has used it for
 * `idleCloseMs` (a few seconds): a busy printer saves a TCP handshake and a close per job, and an idle
 * one is free for others.
 *
 * One attempt per `print()`: write the job's tickets one after another, each once the previous one is
 * acknowledged (0x06), until every ticket is, the printer reports a fault, answers with bytes that are not
 * Boca status, or stays silent. Bytes that arrive
 * between jobs are stale (a state change already over) and never count for the next job. After anything
 * but `printed` or `sent`, the connection is dropped, and the next attempt opens a fresh one.
 */
import net from 'node:net'
import { decodeStatusByte, hex } from '../boca/status.ts'
import type { PrinterReport } from '../protocol/index.ts'
import type { Logger } from '../runtime/logger.ts'
import type { Clock, TimerHandle } from './clock.ts'
import type { AttemptOptions, AttemptOutcome, AttemptResult, PrinterChannel, PrintTimeouts, StatusTarget } from './printAttempt.ts'
import { checkReachable, closeGracefully, probeReady } from './printerProbe.ts'

export interface PrinterConnectionDeps {
  /** The printer, and the form of its status bytes. */
  target: StatusTarget
  /** Close the connection after this long without a job (well under Boca's 30 s idle reset). */
  idleCloseMs: number
  logger: Logger
  /** The timers of an attempt (PRINTER_TIMEOUT_MS, STATUS_WAIT_MS, TICKET_SETTLE_MS) and of the idle close. */
  clock: Clock
}

export class PrinterConnection implements PrinterChannel {
  private readonly deps: PrinterConnectionDeps
  private socket: net.Socket | undefined
  private idleTimer: TimerHandle | undefined

  constructor (deps: PrinterConnectionDeps) {
    this.deps = deps
  }

  /** Closes the connection, if one is open, waiting for the printer to close its side. */
  async stop (): Promise<void> {
    await this.close(true)
  }

  /** Asks the printer, on a connection of its own, whether it is ready (printerProbe.ts). */
  probeReady (timeouts: PrintTimeouts): Promise<boolean> {
    return probeReady(this.deps.target, timeouts)
  }

  /** Whether a connection to the printer can be made (printerProbe.ts): null when it can, else the reason. */
  checkReachable (connectMs: number): Promise<string | null> {
    return checkReachable(this.deps.target, connectMs)
  }

  /** Closes the open connection (gracefully: the printer refuses the next one until it has seen this one close). */
  async close (graceful: boolean): Promise<void> {
    this.deps.clock.clearTimeout(this.idleTimer)
    const socket = this.socket
    this.socket = undefined
    if (socket !== undefined) await closeGracefully(socket, graceful)
  }

  /**
   * One attempt at a job, cut into `pieces` (boca/fgl.ts `splitTickets`, per copy). With `expectedAcks` > 0
   * there is one piece per ticket, and each piece is written only once the previous one is acknowledged.
   */
  async print (pieces: readonly Buffer[], expectedAcks: number, timeouts: PrintTimeouts, options: AttemptOptions = {}): Promise<AttemptResult> {
    this.deps.clock.clearTimeout(this.idleTimer)
    const report: PrinterReport = { acks: 0, expectedAcks, statusBytes: [], condition: 'none' }
    let socket = this.socket
    const reused = socket !== undefined
    if (socket === undefined) {
      const opened = await this.connect(timeouts.connectMs)
      if (typeof opened === 'string') return { outcome: { kind: 'unreachable', reason: opened }, report, bytesWritten: 0 }
      socket = opened
    }
    let result = await this.attempt(socket, pieces, report, timeouts, options)
    if (reused && result.outcome.kind === 'dropped' && result.outcome.whileWriting && report.statusBytes.length === 0) {
      // The kept connection had gone (the printer closed it between jobs) before this job's bytes left:
      // nothing of it reached the printer, so it goes again on a fresh connection, without the hook.
      this.deps.logger.debug({ reason: result.outcome.reason }, 'kept printer connection was gone: reconnecting')
      if (this.socket === socket) this.socket = undefined
      socket.destroy()
      const opened = await this.connect(timeouts.connectMs)
      if (typeof opened === 'string') return { outcome: { kind: 'unreachable', reason: opened }, report, bytesWritten: 0 }
      socket = opened
      result = await this.attempt(socket, pieces, report, timeouts, {})
    }
    const keep = result.outcome.kind === 'printed' || result.outcome.kind === 'sent'
    if (keep && this.socket === socket && !socket.destroyed) {
      this.idleTimer = this.deps.clock.setTimeout(() => { void this.close(true) }, this.deps.idleCloseMs)
    } else {
      if (this.socket === socket) this.socket = undefined
      await closeGracefully(socket, keep)
    }
    return result
  }

  /** Opens a connection that stays readable between jobs; its reason when it cannot. */
  private connect (connectMs: number): Promise<net.Socket | string> {
    const { target, logger } = this.deps
    return new Promise((resolve) => {
      const socket = net.connect({ host: target.host, port: target.port })
      socket.setNoDelay(true)
      const fail = (reason: string): void => {
        this.deps.clock.clearTimeout(timer)
        socket.removeAllListeners()
        socket.on('error', () => {})
        socket.destroy()
        resolve(reason)
      }
      const timer = this.deps.clock.setTimeout(() => fail(`no connection within ${connectMs} ms`), connectMs)
      socket.once('error', (error: NodeJS.ErrnoException) => fail(error.code ?? error.message))
      socket.once('close', () => fail('connection closed'))
      socket.once('connect', () => {
        this.deps.clock.clearTimeout(timer)
        socket.removeAllListeners()
        this.socket = socket
        // Between jobs: keep reading (stale status bytes are dropped) so that the printer closing is noticed.
        socket.on('data', () => {})
        socket.on('error', (error: NodeJS.ErrnoException) => logger.debug({ err: error }, 'printer connection error'))
        socket.once('close', () => {
          if (this.socket === socket) this.socket = undefined
          this.deps.clock.clearTimeout(this.idleTimer)
        })
        resolve(socket)
      })
    })
  }

  /**
   * One job over an open connection. An ACK counts only for a ticket already written and not yet
   * acknowledged: the next ticket is written once the last one is acknowledged, so a printer that ACKs twice
   * per ticket, or a stray ACK, never confirms a ticket still to be sent; and a printer in Boca's "delayed
   * status" mode, which ACKs only after the last ticket it holds, ACKs every ticket. Status bytes are read in
   * the printer's form (ASCII_STATUS_PRINTERS); a chunk holding any byte that is not Boca status ends the job
   * as `foreign`: the device on that port does not speak Boca status, whatever other bytes it sent.
   */
  private attempt (socket: net.Socket, pieces: readonly Buffer[], report: PrinterReport, timeouts: PrintTimeouts, options: AttemptOptions): Promise<AttemptResult> {
    const { expectedAcks } = report
    const { statusEncoding } = this.deps.target
    return new Promise((resolve) => {
      let writing = false
      /** Pieces handed to the socket. */
      let handed = 0
      /** The last piece handed to the socket has been accepted whole. */
      let flushed = false
      let bytesWritten = 0
      let surplusAcks = 0
      /** When the quiet gap before the next ticket began. */
      let settlingSince: number | undefined
      let settled = false
      let busy = false
      let timer: TimerHandle | undefined
      const { clock } = this.deps

      const finish = (outcome: AttemptOutcome): void => {
        if (settled) return
        settled = true
        clock.clearTimeout(timer)
        socket.off('data', onData)
        socket.off('close', onClose)
        socket.off('error', onError)
        // Every ticket acknowledged: every byte was written, whether or not the last write's callback ran yet.
        if (outcome.kind === 'printed') bytesWritten = pieces.reduce((sum, piece) => sum + piece.length, 0)
        if (surplusAcks > 0) this.deps.logger.warn({ surplusAcks, acks: report.acks, expectedAcks, statusBytes: report.statusBytes.slice(0, 32) }, 'the printer acknowledged more tickets than it was sent: extra ACKs not counted')
        resolve({ outcome, report, bytesWritten })
      }
      const arm = (ms: number, onExpire: () => void): void => {
        clock.clearTimeout(timer)
        timer = clock.setTimeout(onExpire, ms)
      }
      const allAcknowledged = (): boolean => expectedAcks > 0 && report.acks >= expectedAcks && handed === pieces.length
      /** Writes `piece` (`count` pieces of the job, 1 unless they go together unconfirmed), then runs `then`. */
      const writePiece = (piece: Buffer, count: number, then: () => void): void => {
        handed += count
        flushed = false
        arm(timeouts.printerMs, () => finish({ kind: 'timeout', whileWriting: bytesWritten === 0, reason: `the printer took no bytes for ${timeouts.printerMs} ms` }))
        socket.write(piece, (error) => {
          if (error !== undefined && error !== null) return
          if (settled) return
          flushed = true
          bytesWritten += piece.length
          then()
        })
      }
      /** After a piece is accepted, or an ACK: the next piece, the end, or a wait for the printer. */
      const advance = (): void => {
        if (allAcknowledged()) return finish({ kind: 'printed' })
        if (settled || !flushed) return
        if (report.acks >= handed && handed < pieces.length) {
          const settle = timeouts.ticketSettleMs ?? 0
          // A quiet gap after an ACK before the next ticket, restarted by anything the printer says in it, but
          // never longer in all than PRINTER_TIMEOUT_MS (a device that chatters on still gets the next ticket).
          settlingSince ??= clock.monotonic()
          const waited = clock.monotonic() - settlingSince
          if (settle > 0 && handed > 0 && waited < timeouts.printerMs) return arm(Math.min(settle, timeouts.printerMs - waited), () => { settlingSince = undefined; writePiece(pieces[handed] as Buffer, 1, advance) })
          settlingSince = undefined
          return writePiece(pieces[handed] as Buffer, 1, advance)
        }
        armSilence()
      }
      /** The printer said nothing since the first ticket: it does not report status; the rest goes at once. */
      const sendRestUnconfirmed = (): void => {
        if (handed === pieces.length) return finish({ kind: 'sent' })
        const rest = pieces.slice(handed)
        writePiece(Buffer.concat(rest), rest.length, () => finish({ kind: 'sent' }))
      }
      const armSilence = (): void => {
        if (report.acks === 0 && !busy && report.statusBytes.length === 0) {
          if (options.expectStatus === true) {
            arm(timeouts.printerMs, () => finish({ kind: 'timeout', whileWriting: false, reason: `the printer, which reports status, said nothing for ${timeouts.printerMs} ms after taking the job` }))
          } else {
            arm(timeouts.statusWaitMs, sendRestUnconfirmed)
          }
        } else {
          arm(timeouts.printerMs, () => finish({ kind: 'timeout', whileWriting: false, reason: `the printer went silent after ${report.acks} of ${expectedAcks} tickets` }))
        }
      }
      const onError = (error: NodeJS.ErrnoException): void => finish({ kind: 'dropped', whileWriting: bytesWritten === 0, reason: error.code ?? error.message })
      const onClose = (): void => {
        if (allAcknowledged()) finish({ kind: 'printed' })
        else finish({ kind: 'dropped', whileWriting: bytesWritten === 0, reason: 'the printer closed the connection' })
      }
      const onData = (chunk: Buffer): void => {
        if (!writing) return // stale bytes from before this job: not about it
        const statuses = Array.from(chunk, (byte) => decodeStatusByte(byte, statusEncoding))
        if (statuses.some((status) => status.kind === 'foreign')) return finish({ kind: 'foreign', bytes: Buffer.from(chunk) })
        for (const status of statuses) {
          report.statusBytes.push(hex(status.byte))
          report.condition = status.condition
          if (status.kind === 'ack') {
            if (report.acks < handed) report.acks++
            else surplusAcks++
            // The last ticket acknowledged: the job printed, whatever the printer says next (that is about the next job).
            if (allAcknowledged()) return finish({ kind: 'printed' })
          }
          if (status.kind === 'busy') busy = true
          if (status.kind === 'ready') busy = false
          if (status.kind === 'error') return finish({ kind: 'fault', status })
        }
        advance()
      }
      socket.on('data', onData)
      socket.on('close', onClose)
      socket.on('error', onError)

      const write = (): void => {
        if (settled) return
        writing = true
        if (expectedAcks === 0) {
          writePiece(pieces.length === 1 ? pieces[0] as Buffer : Buffer.concat(pieces), pieces.length, () => finish({ kind: 'sent' }))
          return
        }
        writePiece(pieces[0] as Buffer, 1, advance)
      }
      if (options.beforeWrite === undefined) write()
      else options.beforeWrite().then(write, (error: unknown) => finish({ kind: 'local', error: error as Error }))
    })
  }
}
