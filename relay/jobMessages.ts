/**
 * The messages a printer's worker publishes about its jobs (SPEC "Results"): a job's result, an error, and
 * the words for a printer's fault. Pure: the caller gives the time.
 */
import { decodeStatusByte, hexDump, type StatusEncoding } from '../boca/status.ts'
import { ERROR_CODES, type ErrorCode, type JobErrorMessage, type JobResult, type PrinterReport } from '../protocol/index.ts'
import type { PrinterAddress } from './config.ts'
import type { AttemptOutcome } from './printAttempt.ts'

export function errorMessage (printerId: string, jobId: string | undefined, code: ErrorCode, message: string, at: Date, retryable = ERROR_CODES[code].retryable): JobErrorMessage {
  return {
    ...(jobId === undefined ? {} : { jobId }),
    printerId,
    code,
    message,
    retryable,
    at: at.toISOString()
  }
}

/** What the attempts at one job have added up to so far. */
export interface JobProgress {
  /** Tickets acknowledged, over every attempt. */
  acks: number
  /** Bytes written, over every attempt. */
  written: number
  /** The last attempt's report. */
  lastReport: PrinterReport | undefined
  /** When the first attempt began (monotonic ms). */
  startedAt: number
}

export function resultMessage (printerId: string, job: { id: string, copies: number }, status: 'printed' | 'sent', progress: JobProgress, ticketsPerCopy: number, durationMs: number, at: Date): JobResult {
  return {
    jobId: job.id,
    printerId,
    status,
    bytes: progress.written,
    durationMs: Math.round(durationMs),
    printer: { ...(progress.lastReport as PrinterReport), acks: progress.acks, expectedAcks: ticketsPerCopy * job.copies },
    at: at.toISOString()
  }
}

/**
 * What a fault is called: the condition the printer reported, or, for bytes that are not Boca status, that
 * the device on that port does not speak it, with the bytes seen (hex, truncated) and, when they are Boca
 * status in the other form, the setting to change.
 */
export function describeFault (printer: PrinterAddress, statusEncoding: StatusEncoding, outcome: Extract<AttemptOutcome, { kind: 'fault' | 'foreign' }>): { message: string, detail: string } {
  if (outcome.kind === 'fault') {
    return { message: `printer ${printer.id} reports ${outcome.status.message} (${outcome.status.condition})`, detail: outcome.status.message }
  }
  const other = statusEncoding === 'ascii' ? 'binary' : 'ascii'
  const hint = Array.from(outcome.bytes).every((byte) => decodeStatusByte(byte, other).kind !== 'foreign')
    ? (other === 'ascii' ? ' (Boca status in ASCII mode: if this printer is set so, add it to ASCII_STATUS_PRINTERS)' : ' (plain Boca status bytes: if this printer is not in ASCII status mode, remove it from ASCII_STATUS_PRINTERS)')
    : ''
  const detail = `the device at ${printer.host}:${printer.port} does not speak Boca status${statusEncoding === 'ascii' ? ' in ASCII mode' : ''}: it sent ${hexDump(outcome.bytes)}${hint}`
  return { message: `printer ${printer.id}: ${detail}`, detail }
}
