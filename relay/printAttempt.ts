/**
 * One attempt at sending a job to a raw TCP/9100 printer, as the worker sees it: where the printer is, the
 * timeouts that bound the attempt, and what it can end in (printerConnection.ts makes the attempt; jobDecision.ts
 * decides what follows from its outcome).
 */
import type { BocaStatus, StatusEncoding } from '../boca/status.ts'
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

export interface AttemptOptions {
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

/** How a worker reaches its printer: printerConnection.ts over TCP; a scripted one in unit tests. */
export interface PrinterChannel {
  /** One attempt at a job, cut into `pieces`, expecting `expectedAcks` ticket ACKs. */
  print(pieces: readonly Buffer[], expectedAcks: number, timeouts: PrintTimeouts, options?: AttemptOptions): Promise<AttemptResult>
  /** Whether the printer says it is ready (`<S1>`); false when unreachable, busy, in fault or silent. */
  probeReady(timeouts: PrintTimeouts): Promise<boolean>
  /** Whether a connection can be made: null when it can, else the reason. */
  checkReachable(connectMs: number): Promise<string | null>
  stop(): Promise<void>
}
