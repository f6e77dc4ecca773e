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
import type { PrinterReport } from '../protocol/index.ts'
import type { Logger } from '../runtime/logger.ts'
import type { Clock, TimerHandle } from './clock.ts'
import type { AttemptOptions, AttemptResult, PrinterChannel, PrintTimeouts, StatusTarget } from './printAttempt.ts'
import { checkReachable, closeGracefully, probeReady } from './printerProbe.ts'
import { TicketExchange } from './ticketExchange.ts'

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

  /** One job over an open connection (ticketExchange.ts). */
  private attempt (socket: net.Socket, pieces: readonly Buffer[], report: PrinterReport, timeouts: PrintTimeouts, options: AttemptOptions): Promise<AttemptResult> {
    const { target, clock, logger } = this.deps
    return new TicketExchange({ socket, pieces, report, timeouts, options, statusEncoding: target.statusEncoding, clock, logger }).run()
  }
}
