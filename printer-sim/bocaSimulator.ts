/**
 * A Boca-like ticket printer on raw TCP (SPEC.md "Printer behaviour", BOCA.md "Network" and "Status bytes"),
 * for tests, demos and benchmarks. One connection at a time; one status byte per ticket (ACK 0x06, or the
 * error byte when it cannot print); `<S1>` answered with 0x11 only when ready; the new status byte sent to
 * the connected client whenever the state changes.
 */
import { EventEmitter } from 'node:events'
import { mkdir, writeFile } from 'node:fs/promises'
import net from 'node:net'
import path from 'node:path'
import { dumpTicket, FglScanner, type TicketTerminator } from '../boca/fgl.ts'
import { encodeStatusByte, STATUS, type StatusEncoding } from '../boca/status.ts'
import type { Logger } from '../runtime/logger.ts'

export const SIMULATOR_STATES = ['ready', 'paper-out', 'paper-jam', 'cutter-jam', 'offline', 'hang'] as const
export type SimulatorState = typeof SIMULATOR_STATES[number]

/** The status byte the printer reports in each state; `offline` and `hang` report nothing. */
const STATE_STATUS_BYTE: Partial<Record<SimulatorState, number>> = {
  ready: STATUS.READY,
  'paper-out': STATUS.OUT_OF_PAPER,
  'paper-jam': STATUS.PAPER_JAM,
  'cutter-jam': STATUS.CUTTER_JAM
}

export interface BocaSimulatorConfig {
  host: string
  /** 0 picks a free port; the simulator keeps that port when it goes offline and back. */
  port: number
  /** Bi-directional status: ACK per ticket, `<S1>` answers, state changes. Default true. */
  statusReporting?: boolean
  /** How long each ticket takes to print before its ACK. Default 0. */
  printDelayMs?: number
  /**
   * When set, each printed ticket is written there as `<n>.bin` (its bytes), `<n>.txt` (its text) and `<n>.png`
   * (drawn by fgl/, printer-sim/ticketPicture.ts). A ticket that cannot be drawn or written is logged; it prints all the same.
   */
  dumpDir?: string
  /** State at start. Default `ready`. */
  initialState?: SimulatorState
  /** Take several connections at once (a real Boca takes one): a benchmark's best case for a client that opens one per job. Default false. */
  concurrentConnections?: boolean
  /** Keep each printed ticket in `tickets` (tests read them). Benchmarks turn it off to print for hours in constant memory. Default true. */
  keepTickets?: boolean
  /** Boca's "ASCII status" mode: every status byte sent plus 0x30. Default `binary`. */
  statusEncoding?: StatusEncoding
  /** Boca's "delayed status" mode: a ticket's ACK is sent only when it is the last one the printer holds. Default false. */
  delayedStatus?: boolean
  /** ACKs sent per printed ticket (2: a faulty device that acknowledges twice). Default 1. */
  acksPerTicket?: number
}

export interface BocaSimulatorDeps {
  config: BocaSimulatorConfig
  logger: Logger
}

export interface PrintedTicket {
  /** The nth ticket printed since start: `<n>` of the dump's file names. */
  number: number
  bytes: Buffer
  terminator: TicketTerminator
  /** `dumpTicket(bytes)`: what a person would read on the ticket. */
  text: string
  at: Date
  connectionId: number
}

interface Connection {
  id: number
  socket: net.Socket
  scanner: FglScanner
  /** The printer handles tickets and status requests one after another, in the order received. */
  work: Promise<void>
  /** Tickets received and not yet handled (delayed status mode ACKs only when none is left). */
  ticketsWaiting: number
}

interface SimulatorEvents {
  ticket: [PrintedTicket]
  state: [SimulatorState]
  /** A connection was accepted (its connectionId). */
  connection: [number]
  /** The accepted connection closed: the printer takes another one now. */
  disconnect: [number]
}

/** The simulated printer: a TCP server (see the file comment) with a state an operator or a test can change. */
export class BocaSimulator extends EventEmitter<SimulatorEvents> {
  /** Printed tickets, oldest first. */
  tickets: PrintedTicket[] = []
  /** Connections accepted (refused ones not counted). */
  connections = 0
  /** Connections reset because another one was open. */
  refusedConnections = 0
  /** Tickets that completed while the printer was in an error state, so did not print. */
  rejectedTickets = 0
  /** Bytes read from clients. */
  received = 0
  /** Connections reset mid-job by `dropConnections`. */
  droppedConnections = 0

  private readonly config: Required<Omit<BocaSimulatorConfig, 'dumpDir'>> & { dumpDir: string | undefined }
  /** Tickets printed since start (kept or not). */
  get printed (): number {
    return this.printedCount
  }

  private readonly logger: Logger
  private currentState: SimulatorState
  private server: net.Server | undefined
  private boundPort = 0
  private active: Connection | undefined
  private nextConnectionId = 1
  private printedCount = 0
  private stopped = false
  private dropsPending = 0
  private readonly timers = new Set<NodeJS.Timeout>()
  private dumpWrites: Promise<void> = Promise.resolve()

  constructor (deps: BocaSimulatorDeps) {
    super()
    const { config } = deps
    this.config = {
      host: config.host,
      port: config.port,
      statusReporting: config.statusReporting ?? true,
      printDelayMs: config.printDelayMs ?? 0,
      dumpDir: config.dumpDir,
      initialState: config.initialState ?? 'ready',
      concurrentConnections: config.concurrentConnections ?? false,
      keepTickets: config.keepTickets ?? true,
      statusEncoding: config.statusEncoding ?? 'binary',
      delayedStatus: config.delayedStatus ?? false,
      acksPerTicket: config.acksPerTicket ?? 1
    }
    this.logger = deps.logger
    this.currentState = this.config.initialState
  }

  get port (): number {
    return this.boundPort
  }

  /** `host:port`, as the relay's PRINTERS names a printer. */
  get address (): string {
    return `${this.config.host}:${this.boundPort}`
  }

  get state (): SimulatorState {
    return this.currentState
  }

  async start (): Promise<void> {
    this.stopped = false
    if (this.config.dumpDir) await mkdir(this.config.dumpDir, { recursive: true })
    await this.listen(this.config.port)
    this.logger.info({ host: this.config.host, port: this.boundPort, state: this.currentState }, 'printer simulator listening')
    if (this.currentState === 'offline') await this.closeServer()
  }

  async stop (): Promise<void> {
    this.stopped = true
    for (const timer of this.timers) clearTimeout(timer)
    this.timers.clear()
    await this.closeServer()
    await this.dumpWrites
  }

  /**
   * Changes state. `offline` stops listening and drops the connection; leaving it listens on the same port
   * again. `hang` stops reading the connection; leaving it resumes. Other states send their status byte.
   */
  async setState (state: SimulatorState): Promise<void> {
    const previous = this.currentState
    if (state === previous) return
    this.currentState = state
    this.logger.info({ from: previous, to: state }, 'printer state changed')
    this.emit('state', state)
    if (state === 'offline') {
      await this.closeServer()
      return
    }
    if (previous === 'offline' && this.boundPort !== 0 && !this.stopped) {
      try {
        await this.listen(this.boundPort)
      } catch (error) {
        this.currentState = 'offline'
        throw error
      }
    }
    const socket = this.active?.socket
    if (state === 'hang') {
      socket?.pause()
      return
    }
    if (previous === 'hang') socket?.resume()
    const statusByte = STATE_STATUS_BYTE[state]
    if (this.active && statusByte !== undefined) this.answer(this.active, statusByte)
  }

  /** The next `count` jobs (bytes arriving between tickets, on any connection) reset their connection as they arrive, and print nothing. */
  dropConnections (count: number): void {
    this.dropsPending += count
  }

  /** Resolves with the printed tickets once there are at least `count`; rejects after `timeoutMs`. */
  waitForTickets (count: number, timeoutMs: number): Promise<PrintedTicket[]> {
    if (this.tickets.length >= count) return Promise.resolve([...this.tickets])
    return new Promise((resolve, reject) => {
      const onTicket = (): void => {
        if (this.tickets.length < count) return
        clearTimeout(timer)
        this.off('ticket', onTicket)
        resolve([...this.tickets])
      }
      const timer = setTimeout(() => {
        this.off('ticket', onTicket)
        reject(new Error(`printer simulator: expected ${count} ticket(s) within ${timeoutMs} ms, ` +
          `but ${this.tickets.length} printed (state ${this.currentState})`))
      }, timeoutMs)
      this.on('ticket', onTicket)
    })
  }

  /** Forgets what was printed and received (not the state or the open connection). */
  reset (): void {
    this.tickets = []
    this.connections = 0
    this.refusedConnections = 0
    this.rejectedTickets = 0
    this.received = 0
  }

  private listen (port: number): Promise<void> {
    const server = net.createServer((socket) => { this.accept(socket) })
    server.on('error', (error) => { this.logger.error({ err: error }, 'printer simulator server error') })
    this.server = server
    return new Promise((resolve, reject) => {
      const onListenError = (error: Error): void => { this.server = undefined; reject(error) }
      server.once('error', onListenError)
      server.listen(port, this.config.host, () => {
        server.off('error', onListenError)
        const address = server.address()
        if (address !== null && typeof address === 'object') this.boundPort = address.port
        resolve()
      })
    })
  }

  /** Stops listening (new connections are refused) and drops the open connection. */
  private async closeServer (): Promise<void> {
    const server = this.server
    this.server = undefined
    this.active?.socket.destroy()
    this.active = undefined
    if (server === undefined || !server.listening) return
    await new Promise<void>((resolve) => { server.close(() => { resolve() }) })
  }

  private accept (socket: net.Socket): void {
    socket.on('error', (error) => { this.logger.debug({ err: error }, 'printer simulator connection error') })
    if ((this.active !== undefined && !this.config.concurrentConnections) || this.currentState === 'offline' || this.stopped) {
      this.refusedConnections++
      const reason = this.active !== undefined ? 'another connection is open' : 'printer offline'
      this.logger.info({ remote: socket.remoteAddress, reason }, 'connection refused')
      socket.resetAndDestroy()
      return
    }
    const connection: Connection = {
      id: this.nextConnectionId++,
      socket,
      scanner: new FglScanner({
        onTicket: (bytes, terminator) => {
          connection.ticketsWaiting++
          this.enqueue(connection, () => this.handleTicket(connection, bytes, terminator))
        },
        onStatusRequest: () => { this.enqueue(connection, () => this.handleStatusRequest(connection)) }
      }),
      work: Promise.resolve(),
      ticketsWaiting: 0
    }
    this.active = connection
    this.connections++
    this.logger.info({ connectionId: connection.id, remote: socket.remoteAddress }, 'connection opened')
    this.emit('connection', connection.id)
    socket.on('data', (chunk) => {
      this.received += chunk.length
      // A drop is spent on a job arriving (not on a connection that only checks the printer is there), on a
      // new connection or on one the client kept open between jobs.
      if (this.dropsPending > 0 && connection.scanner.atTicketStart) {
        this.dropsPending--
        // A printer that resets the connection while the job arrives: nothing of it prints.
        this.droppedConnections++
        this.logger.info({ connectionId: connection.id, bytes: chunk.length }, 'connection dropped mid-job (simulated fault)')
        socket.resetAndDestroy()
        return
      }
      connection.scanner.push(chunk)
    })
    socket.on('close', () => {
      if (this.active === connection) this.active = undefined
      this.logger.info({ connectionId: connection.id }, 'connection closed')
      this.emit('disconnect', connection.id)
    })
    // A hung printer holds the connection but reads nothing (so it does not notice the client leaving either).
    if (this.currentState === 'hang') socket.pause()
  }

  private enqueue (connection: Connection, step: () => Promise<void> | void): void {
    connection.work = connection.work
      .then(step)
      .catch((error: unknown) => { this.logger.error({ err: error }, 'printer simulator failed to handle a ticket') })
  }

  private async handleTicket (connection: Connection, bytes: Buffer, terminator: TicketTerminator): Promise<void> {
    if (this.config.printDelayMs > 0) await this.delay(this.config.printDelayMs)
    connection.ticketsWaiting--
    if (this.stopped) return
    const state = this.currentState
    if (state === 'offline' || state === 'hang') {
      this.logger.warn({ connectionId: connection.id, bytes: bytes.length, state }, 'ticket lost: printer not running')
      return
    }
    const errorByte = state === 'ready' ? undefined : STATE_STATUS_BYTE[state]
    if (errorByte !== undefined) {
      this.rejectedTickets++
      this.logger.info({ connectionId: connection.id, bytes: bytes.length, state }, 'ticket not printed')
      this.answer(connection, errorByte)
      return
    }
    this.printedCount++
    // Delayed status: the ACK only after the last ticket the printer holds (none waiting, none arriving).
    if (!this.config.delayedStatus || (connection.ticketsWaiting === 0 && connection.scanner.atTicketStart)) {
      this.answer(connection, STATUS.ACK, this.config.acksPerTicket)
    }
    this.logger.info({ connectionId: connection.id, bytes: bytes.length, terminator, ticket: this.printedCount }, 'ticket printed')
    if (!this.config.keepTickets && this.config.dumpDir === undefined && this.listenerCount('ticket') === 0) return
    const ticket: PrintedTicket = { number: this.printedCount, bytes, terminator, text: dumpTicket(bytes), at: new Date(), connectionId: connection.id }
    if (this.config.keepTickets) this.tickets.push(ticket)
    this.logger.debug({ text: ticket.text }, 'ticket contents')
    if (this.config.dumpDir) this.writeDump(this.config.dumpDir, this.printedCount, ticket)
    this.emit('ticket', ticket)
  }

  private handleStatusRequest (connection: Connection): void {
    // BOCA.md: <S1> is answered only when the printer is ready; busy or in error it is not answered.
    if (this.currentState === 'ready') this.answer(connection, STATUS.READY)
  }

  /** Sends a status byte (`times` over, in one write), in the printer's status form. */
  private answer (connection: Connection, statusByte: number, times = 1): void {
    const { socket } = connection
    if (!this.config.statusReporting || this.currentState === 'hang' || !socket.writable) return
    socket.write(Buffer.alloc(times, encodeStatusByte(statusByte, this.config.statusEncoding)))
  }

  private delay (ms: number): Promise<void> {
    return new Promise((resolve) => {
      const timer = setTimeout(() => { this.timers.delete(timer); resolve() }, ms)
      this.timers.add(timer)
    })
  }

  private writeDump (dir: string, n: number, ticket: PrintedTicket): void {
    this.dumpWrites = this.dumpWrites
      .then(async () => {
        await writeFile(path.join(dir, `${n}.bin`), ticket.bytes)
        await writeFile(path.join(dir, `${n}.txt`), ticket.text + '\n')
        await this.writePicture(dir, n, ticket)
      })
      .catch((error: unknown) => { this.logger.error({ err: error, dir }, 'could not write ticket dump') })
  }

  /** `<n>.png`: a ticket the renderer cannot draw, or a picture that cannot be written, is logged and skipped. */
  private async writePicture (dir: string, n: number, ticket: PrintedTicket): Promise<void> {
    const started = performance.now()
    try {
      // Loaded on first use: the rasterizer (resvg) is not needed by a simulator that does not dump.
      const { ticketPng } = await import('./ticketPicture.ts')
      const png = ticketPng(ticket.bytes)
      await writeFile(path.join(dir, `${n}.png`), png)
      this.logger.debug({ ticket: n, bytes: png.length, durationMs: Math.round(performance.now() - started) }, 'ticket picture written')
    } catch (error) {
      this.logger.warn({ err: error, dir, ticket: n }, 'could not draw the ticket\'s picture: no PNG for it')
    }
  }
}
