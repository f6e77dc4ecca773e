/**
 * One attempt to print a job on a raw TCP/9100 printer: connect, write the
 * job's bytes, then read Boca status bytes until every expected ticket is acknowledged (0x06), the
 * printer reports a fault, or it stays silent. The caller decides what an outcome means for the job.
 */
import net from 'node:net'
import { decodeStatusByte, hex, type BocaStatus } from '../boca/status.ts'
import type { PrinterReport } from '../protocol/index.ts'

export interface PrinterTarget {
  host: string
  port: number
}

export interface PrintTimeouts {
  connectMs: number
  /** Silence after the last byte is written before a job with no status heard counts as `sent`. */
  statusWaitMs: number
  /** Silence allowed while writing, while the printer is busy, or between ACKs once it reports. */
  printerMs: number
}

export type AttemptOutcome =
  /** Every expected ticket was acknowledged. */
  | { kind: 'printed' }
  /** Every byte was accepted over TCP; the printer reported nothing. */
  | { kind: 'sent' }
  /** The TCP connection could not be made. */
  | { kind: 'unreachable', reason: string }
  /** The printer reported a fault; `acks` tickets printed before it. */
  | { kind: 'fault', status: BocaStatus }
  /** The printer stopped taking bytes, or stopped answering after it had reported. */
  | { kind: 'timeout', whileWriting: boolean, reason: string }
  /** The connection closed before the job finished. */
  | { kind: 'dropped', whileWriting: boolean, reason: string }
  /** The relay itself failed before writing (its `beforeWrite` hook threw): nothing was sent. */
  | { kind: 'local', error: Error }

export interface PrintOptions {
  /** Runs once the connection is open, before the first byte is written (the relay marks the job `printing`). */
  beforeWrite?: () => Promise<void>
  /**
   * The printer is known to report status (it has sent status bytes before): silence after a job is then a
   * PRINTER_TIMEOUT, not `sent`.
   */
  expectStatus?: boolean
}

export interface AttemptResult {
  outcome: AttemptOutcome
  report: PrinterReport
  bytesWritten: number
}

export function printOnce (target: PrinterTarget, data: Buffer, expectedAcks: number, timeouts: PrintTimeouts, options: PrintOptions = {}): Promise<AttemptResult> {
  return new Promise((resolve) => {
    const report: PrinterReport = { acks: 0, expectedAcks, statusBytes: [], condition: 'none' }
    let connected = false
    let writing = false
    let written = false
    let bytesWritten = 0
    let settled = false
    let busy = false
    let timer: NodeJS.Timeout | undefined
    const socket = net.connect({ host: target.host, port: target.port })
    socket.setNoDelay(true)

    const finish = (outcome: AttemptOutcome): void => {
      if (settled) return
      settled = true
      clearTimeout(timer)
      socket.removeAllListeners('data')
      socket.on('error', () => {})
      closeGracefully(socket, outcome.kind === 'printed' || outcome.kind === 'sent')
        .then(() => resolve({ outcome, report, bytesWritten }))
    }
    const arm = (ms: number, onExpire: () => void): void => {
      clearTimeout(timer)
      timer = setTimeout(onExpire, ms)
    }
    const armSilence = (): void => {
      if (report.acks === 0 && !busy && report.statusBytes.length === 0) {
        if (options.expectStatus) {
          arm(timeouts.printerMs, () => finish({ kind: 'timeout', whileWriting: false, reason: `the printer, which reports status, said nothing for ${timeouts.printerMs} ms after taking the job` }))
        } else {
          arm(timeouts.statusWaitMs, () => finish({ kind: 'sent' }))
        }
      } else {
        arm(timeouts.printerMs, () => finish({ kind: 'timeout', whileWriting: false, reason: `the printer went silent after ${report.acks} of ${expectedAcks} tickets` }))
      }
    }

    arm(timeouts.connectMs, () => finish({ kind: 'unreachable', reason: `no connection within ${timeouts.connectMs} ms` }))

    socket.on('error', (error: NodeJS.ErrnoException) => {
      if (!connected) finish({ kind: 'unreachable', reason: error.code ?? error.message })
      else finish({ kind: 'dropped', whileWriting: !written, reason: error.code ?? error.message })
    })
    socket.on('close', () => {
      if (!connected) finish({ kind: 'unreachable', reason: 'connection closed' })
      else if (written && report.acks >= expectedAcks && expectedAcks > 0) finish({ kind: 'printed' })
      else finish({ kind: 'dropped', whileWriting: !written, reason: 'the printer closed the connection' })
    })
    socket.on('data', (chunk: Buffer) => {
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
    })
    socket.once('connect', () => {
      connected = true
      if (options.beforeWrite === undefined) write()
      else {
        clearTimeout(timer)
        options.beforeWrite().then(write, (error: unknown) => finish({ kind: 'local', error: error as Error }))
      }
    })
    const write = (): void => {
      if (settled) return
      writing = true
      arm(timeouts.printerMs, () => finish({ kind: 'timeout', whileWriting: true, reason: `the printer took no bytes for ${timeouts.printerMs} ms` }))
      socket.write(data, (error) => {
        if (error || settled) return
        written = true
        bytesWritten = data.length
        if (expectedAcks === 0) return finish({ kind: 'sent' })
        if (report.acks >= expectedAcks) return finish({ kind: 'printed' })
        armSilence()
      })
    }
  })
}

/** How long a printer is given to close its side after the relay's FIN. */
const CLOSE_GRACE_MS = 1000

/**
 * A Boca takes one connection at a time and refuses others until it has seen this one close, so the
 * relay waits for the close to complete before its next connection, rather than racing it.
 */
function closeGracefully (socket: net.Socket, graceful: boolean): Promise<void> {
  return new Promise((resolve) => {
    if (socket.destroyed || !graceful) {
      socket.destroy()
      resolve()
      return
    }
    const timer = setTimeout(() => socket.destroy(), CLOSE_GRACE_MS)
    socket.once('close', () => { clearTimeout(timer); resolve() })
    socket.resume()
    socket.end()
  })
}

/** `<S1>`: a Boca answers it (0x11, or low paper) only when it is ready to print. */
const STATUS_REQUEST = Buffer.from('<S1>')

/** Asks the printer whether it is ready; false when it is unreachable, busy, in fault, or silent. */
export function probeReady (target: PrinterTarget, timeouts: PrintTimeouts): Promise<boolean> {
  return new Promise((resolve) => {
    let settled = false
    const socket = net.connect({ host: target.host, port: target.port })
    const finish = (ready: boolean): void => {
      if (settled) return
      settled = true
      clearTimeout(timer)
      socket.removeAllListeners('data')
      socket.on('error', () => {})
      void closeGracefully(socket, true).then(() => resolve(ready))
    }
    const timer = setTimeout(() => finish(false), timeouts.connectMs + timeouts.statusWaitMs)
    socket.on('error', () => finish(false))
    socket.on('close', () => finish(false))
    socket.on('data', (chunk: Buffer) => {
      for (const byte of chunk) {
        const status = decodeStatusByte(byte)
        if (status.kind === 'error' || status.kind === 'busy') return finish(false)
        if (status.kind === 'ready' || status.kind === 'warning') return finish(true)
      }
    })
    socket.once('connect', () => { socket.write(STATUS_REQUEST) })
  })
}

/** Whether a TCP connection to the printer can be made: null when it can, else the reason. Writes nothing. */
export function checkReachable (target: PrinterTarget, connectMs: number): Promise<string | null> {
  return new Promise((resolve) => {
    let settled = false
    const socket = net.connect({ host: target.host, port: target.port })
    const finish = (reason: string | null): void => {
      if (settled) return
      settled = true
      clearTimeout(timer)
      socket.on('error', () => {})
      void closeGracefully(socket, reason === null).then(() => resolve(reason))
    }
    const timer = setTimeout(() => finish(`no connection within ${connectMs} ms`), connectMs)
    socket.on('error', (error: NodeJS.ErrnoException) => finish(error.code ?? error.message))
    socket.once('connect', () => finish(null))
  })
}
