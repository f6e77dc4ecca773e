/**
 * The relay's TCP connection to one raw TCP/9100 printer, kept open between jobs while they keep coming.
 * A Boca takes one connection at a time and resets an idle one after 30 s when another application
 * waits (BOCA.md "Network"), so the connection is closed gracefully once no job has used it for
 * `idleCloseMs` (a few seconds): a busy printer saves a TCP handshake and a close per job, and an idle
 * one is free for others.
 *
 * One attempt per `print()`: write the job's bytes, then read Boca status bytes until every expected
 * ticket is acknowledged (0x06), the printer reports a fault, or it stays silent. Bytes that arrive
 * between jobs are stale (a state change already over) and never count for the next job. After anything
 * but `printed` or `sent`, the connection is dropped, and the next attempt opens a fresh one.
 */
import net from 'node:net'
import { decodeStatusByte, hex } from '../boca/status.ts'
import type { PrinterReport } from '../protocol/index.ts'
import type { Logger } from '../runtime/logger.ts'
import { closeGracefully, type AttemptOutcome, type AttemptResult, type PrinterTarget, type PrintOptions, type PrintTimeouts } from './printerClient.ts'

export interface PrinterConnectionDeps {
  target: PrinterTarget
  /** Close the connection after this long without a job (well under Boca's 30 s idle reset). */
  idleCloseMs: number
  logger: Logger
}

export class PrinterConnection {
  private readonly deps: PrinterConnectionDeps
  private socket: net.Socket | undefined
  private idleTimer: NodeJS.Timeout | undefined
  /** Connections opened so far (a kept connection serves many jobs). */
  opened = 0

  constructor (deps: PrinterConnectionDeps) {
    this.deps = deps
  }

  async start (): Promise<void> {}

  /** Closes the connection, if one is open, waiting for the printer to close its side. */
  async stop (): Promise<void> {
    await this.close(true)
  }

  /** Closes the open connection (gracefully: the printer refuses the next one until it has seen this one close). */
  async close (graceful: boolean): Promise<void> {
    clearTimeout(this.idleTimer)
    const socket = this.socket
    this.socket = undefined
    if (socket !== undefined) await closeGracefully(socket, graceful)
  }

  async print (data: Buffer, expectedAcks: number, timeouts: PrintTimeouts, options: PrintOptions = {}): Promise<AttemptResult> {
    clearTimeout(this.idleTimer)
    const report: PrinterReport = { acks: 0, expectedAcks, statusBytes: [], condition: 'none' }
    let socket = this.socket
    const reused = socket !== undefined
    if (socket === undefined) {
      const opened = await this.connect(timeouts.connectMs)
      if (typeof opened === 'string') return { outcome: { kind: 'unreachable', reason: opened }, report, bytesWritten: 0 }
      socket = opened
    }
    let result = await this.attempt(socket, data, report, timeouts, options)
    if (reused && result.outcome.kind === 'dropped' && result.outcome.whileWriting && report.statusBytes.length === 0) {
      // The kept connection had gone (the printer closed it between jobs) before this job's bytes left:
      // nothing of it reached the printer, so it goes again on a fresh connection, without the hook.
      this.deps.logger.debug({ reason: result.outcome.reason }, 'kept printer connection was gone: reconnecting')
      if (this.socket === socket) this.socket = undefined
      socket.destroy()
      const opened = await this.connect(timeouts.connectMs)
      if (typeof opened === 'string') return { outcome: { kind: 'unreachable', reason: opened }, report, bytesWritten: 0 }
      socket = opened
      result = await this.attempt(socket, data, report, timeouts, {})
    }
    const keep = result.outcome.kind === 'printed' || result.outcome.kind === 'sent'
    if (keep && this.socket === socket && !socket.destroyed) {
      this.idleTimer = setTimeout(() => { void this.close(true) }, this.deps.idleCloseMs)
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
        clearTimeout(timer)
        socket.removeAllListeners()
        socket.on('error', () => {})
        socket.destroy()
        resolve(reason)
      }
      const timer = setTimeout(() => fail(`no connection within ${connectMs} ms`), connectMs)
      socket.once('error', (error: NodeJS.ErrnoException) => fail(error.code ?? error.message))
      socket.once('close', () => fail('connection closed'))
      socket.once('connect', () => {
        clearTimeout(timer)
        socket.removeAllListeners()
        this.opened++
        this.socket = socket
        // Between jobs: keep reading (stale status bytes are dropped) so that the printer closing is noticed.
        socket.on('data', () => {})
        socket.on('error', (error: NodeJS.ErrnoException) => logger.debug({ err: error }, 'printer connection error'))
        socket.once('close', () => {
          if (this.socket === socket) this.socket = undefined
          clearTimeout(this.idleTimer)
        })
        resolve(socket)
      })
    })
  }

  /** One job over an open connection. */
  private attempt (socket: net.Socket, data: Buffer, report: PrinterReport, timeouts: PrintTimeouts, options: PrintOptions): Promise<AttemptResult> {
    const { expectedAcks } = report
    return new Promise((resolve) => {
      let writing = false
      let written = false
      let bytesWritten = 0
      let settled = false
      let busy = false
      let timer: NodeJS.Timeout | undefined

      const finish = (outcome: AttemptOutcome): void => {
        if (settled) return
        settled = true
        clearTimeout(timer)
        socket.off('data', onData)
        socket.off('close', onClose)
        socket.off('error', onError)
        resolve({ outcome, report, bytesWritten })
      }
      const arm = (ms: number, onExpire: () => void): void => {
        clearTimeout(timer)
        timer = setTimeout(onExpire, ms)
      }
      const armSilence = (): void => {
        if (report.acks === 0 && !busy && report.statusBytes.length === 0) {
          if (options.expectStatus === true) {
            arm(timeouts.printerMs, () => finish({ kind: 'timeout', whileWriting: false, reason: `the printer, which reports status, said nothing for ${timeouts.printerMs} ms after taking the job` }))
          } else {
            arm(timeouts.statusWaitMs, () => finish({ kind: 'sent' }))
          }
        } else {
          arm(timeouts.printerMs, () => finish({ kind: 'timeout', whileWriting: false, reason: `the printer went silent after ${report.acks} of ${expectedAcks} tickets` }))
        }
      }
      const onError = (error: NodeJS.ErrnoException): void => finish({ kind: 'dropped', whileWriting: !written, reason: error.code ?? error.message })
      const onClose = (): void => {
        if (written && expectedAcks > 0 && report.acks >= expectedAcks) finish({ kind: 'printed' })
        else finish({ kind: 'dropped', whileWriting: !written, reason: 'the printer closed the connection' })
      }
      const onData = (chunk: Buffer): void => {
        if (!writing) return // stale bytes from before this job: not about it
        for (const byte of chunk) {
          const status = decodeStatusByte(byte)
          report.statusBytes.push(hex(byte))
          report.condition = status.condition
          if (status.kind === 'ack') report.acks++
          if (status.kind === 'busy') busy = true
          if (status.kind === 'ready') busy = false
          if (written && expectedAcks > 0 && report.acks >= expectedAcks) return finish({ kind: 'printed' })
          if (status.kind === 'error') return finish({ kind: 'fault', status })
        }
        if (written) armSilence()
      }
      socket.on('data', onData)
      socket.on('close', onClose)
      socket.on('error', onError)

      const write = (): void => {
        if (settled) return
        writing = true
        arm(timeouts.printerMs, () => finish({ kind: 'timeout', whileWriting: true, reason: `the printer took no bytes for ${timeouts.printerMs} ms` }))
        socket.write(data, (error) => {
          if (error !== undefined && error !== null) return
          if (settled) return
          written = true
          bytesWritten = data.length
          if (expectedAcks === 0) return finish({ kind: 'sent' })
          if (report.acks >= expectedAcks) return finish({ kind: 'printed' })
          armSilence()
        })
      }
      if (options.beforeWrite === undefined) write()
      else options.beforeWrite().then(write, (error: unknown) => finish({ kind: 'local', error: error as Error }))
    })
  }
}
