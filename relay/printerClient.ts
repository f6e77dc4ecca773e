/**
 * Talking to a raw TCP/9100 printer outside a job: what an attempt can end in, checking that a printer
 * can be reached, asking whether it is ready (`<S1>`), and closing a connection the way a Boca needs.
 * Jobs themselves go through the kept connection of printerConnection.ts.
 */
import net from 'node:net'
import { decodeStatusByte, type BocaStatus, type StatusEncoding } from '../boca/status.ts'
import type { PrinterReport } from '../protocol/index.ts'

export interface PrinterTarget {
  host: string
  port: number
}

/** A printer and the form its status bytes come in. */
export interface StatusTarget extends PrinterTarget {
  statusEncoding: StatusEncoding
}

export interface PrintTimeouts {
  connectMs: number
  /** Silence after the last byte is written before a job with no status heard counts as `sent`. */
  statusWaitMs: number
  /** Silence allowed while writing, while the printer is busy, or between ACKs once it reports. */
  printerMs: number
  /**
   * After a ticket's ACK, how long the printer must stay quiet before the next ticket is written: an ACK sent
   * twice for one ticket then falls in the gap and is not counted for the next (0: no gap).
   */
  ticketSettleMs?: number
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
  /** The device answered with bytes that are not Boca status (in its configured form): `bytes`, the first ones seen. */
  | { kind: 'foreign', bytes: Buffer }
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

/** How long a printer is given to close its side after the relay's FIN. */
const CLOSE_GRACE_MS = 1000

/**
 * A Boca takes one connection at a time and refuses others until it has seen this one close, so the
 * relay waits for the close to complete before its next connection, rather than racing it.
 */
export function closeGracefully (socket: net.Socket, graceful: boolean): Promise<void> {
  return new Promise((resolve) => {
    socket.removeAllListeners('data')
    socket.on('error', () => {})
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

/**
 * A short exchange on a connection of its own: `onConnect` and `onData` call `settle` with the answer once
 * they have it; an error, a close or the deadline settles it with `fallback`. Then the connection is closed
 * (gracefully when `graceful(answer)`), and the promise resolves.
 */
function exchange<T> (target: PrinterTarget, deadlineMs: number, fallback: (reason: string) => T, graceful: (answer: T) => boolean,
  handlers: { onConnect: (socket: net.Socket, settle: (answer: T) => void) => void, onData?: (chunk: Buffer, settle: (answer: T) => void) => void }): Promise<T> {
  return new Promise((resolve) => {
    let settled = false
    const socket = net.connect({ host: target.host, port: target.port })
    const settle = (answer: T): void => {
      if (settled) return
      settled = true
      clearTimeout(timer)
      void closeGracefully(socket, graceful(answer)).then(() => resolve(answer))
    }
    const timer = setTimeout(() => settle(fallback(`no answer within ${deadlineMs} ms`)), deadlineMs)
    socket.on('error', (error: NodeJS.ErrnoException) => settle(fallback(error.code ?? error.message)))
    socket.on('close', () => settle(fallback('connection closed')))
    if (handlers.onData !== undefined) {
      const onData = handlers.onData
      socket.on('data', (chunk: Buffer) => onData(chunk, settle))
    }
    socket.once('connect', () => handlers.onConnect(socket, settle))
  })
}

/** `<S1>`: a Boca answers it (0x11, or low paper) only when it is ready to print. */
const STATUS_REQUEST = Buffer.from('<S1>')

/**
 * Asks the printer whether it is ready; false when it is unreachable, busy, in fault, silent, or answers
 * with bytes that are not Boca status.
 */
export function probeReady (target: StatusTarget, timeouts: PrintTimeouts): Promise<boolean> {
  return exchange(target, timeouts.connectMs + timeouts.statusWaitMs, () => false, () => true, {
    onConnect: (socket) => { socket.write(STATUS_REQUEST) },
    onData: (chunk, settle) => {
      for (const byte of chunk) {
        const status = decodeStatusByte(byte, target.statusEncoding)
        if (status.kind === 'error' || status.kind === 'busy' || status.kind === 'foreign') return settle(false)
        if (status.kind === 'ready' || status.kind === 'warning') return settle(true)
      }
    }
  })
}

/** Whether a TCP connection to the printer can be made: null when it can, else the reason. Writes nothing. */
export function checkReachable (target: PrinterTarget, connectMs: number): Promise<string | null> {
  return exchange<string | null>(target, connectMs, (reason) => reason.startsWith('no answer') ? `no connection within ${connectMs} ms` : reason, (answer) => answer === null, {
    onConnect: (_socket, settle) => settle(null)
  })
}
