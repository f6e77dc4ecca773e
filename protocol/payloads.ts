/**
 * Payloads of the public contract (SPEC "Jobs" and "Results"). Browser-safe: no Node imports.
 */
import type { ErrorCode } from './errorCodes.ts'
import { JOB_ID_PATTERN } from './limits.ts'

/** What a client publishes on `printers/<id>/jobs` when it is not a raw job. */
export interface JobEnvelope {
  id?: string
  data: string
  encoding?: 'utf8' | 'base64'
  copies?: number
  expiresAt?: string
}

/** What a client publishes on `printers/<id>/cancel`: the id (an envelope's `id`) of the job to cancel. */
export interface CancelRequest {
  jobId: string
}

/** What the printer said about a job, decoded. */
export interface PrinterReport {
  /** Tickets the printer acknowledged (0x06). */
  acks: number
  /** Tickets the relay expected to be acknowledged (tickets in the job times copies). */
  expectedAcks: number
  /** Every status byte received while the job ran, as `0x06` strings, in order. */
  statusBytes: string[]
  /** The last condition the printer reported, e.g. `ticket-ack`, `low-paper`; `none` when it said nothing. */
  condition: string
}

export type JobStatus = 'printed' | 'sent'
export const JOB_STATUSES: readonly JobStatus[] = ['printed', 'sent']

/** `printers/<id>/responses` */
export interface JobResult {
  jobId: string
  printerId: string
  status: JobStatus
  /** Bytes written to the printer (the job's data times copies). */
  bytes: number
  durationMs: number
  printer: PrinterReport
  at: string
}

/** `printers/<id>/errors` */
export interface JobErrorMessage {
  jobId?: string
  printerId: string
  code: ErrorCode
  message: string
  retryable: boolean
  at: string
}

export type PrinterState = 'online' | 'offline' | 'unreachable' | 'error'

/** `printers/<id>/status`, retained. */
export interface PrinterStatusMessage {
  printerId: string
  state: PrinterState
  detail?: string
  relayId: string
  /** The relay process (a random id per start): tells two processes with one RELAY_ID apart. */
  instance?: string
  /**
   * Jobs waiting in the relay for this printer (spooled, not yet finished, the one printing included). Absent from
   * the relay's Will and from relays older than this field.
   */
  queued?: number
  at: string
}

export const PRINTER_STATES: readonly PrinterState[] = ['online', 'offline', 'unreachable', 'error']

function isRecord (value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value)
}

/** Reads a status message; null when it is not one (readers must not trust what they receive). */
export function readPrinterStatus (payload: string): PrinterStatusMessage | null {
  try {
    const value: unknown = JSON.parse(payload)
    if (!isRecord(value)) return null
    if (typeof value.printerId !== 'string' || typeof value.relayId !== 'string' || typeof value.at !== 'string') return null
    if (typeof value.state !== 'string' || !(PRINTER_STATES as readonly string[]).includes(value.state)) return null
    if (value.detail !== undefined && typeof value.detail !== 'string') return null
    // `queued` is a count, or left out: one that is not is dropped, the rest of the status still read.
    if (value.queued !== undefined && !(Number.isSafeInteger(value.queued) && (value.queued as number) >= 0)) delete value.queued
    return value as unknown as PrinterStatusMessage
  } catch {
    return null
  }
}

/**
 * Reads a cancel request: its job id, or why it is not one (a relay logs that; the request changes nothing).
 * Fields other than `jobId` are ignored, so that a later version may add some.
 */
export function readCancelRequest (payload: string): CancelRequest | { invalid: string } {
  let value: unknown
  try {
    value = JSON.parse(payload)
  } catch {
    return { invalid: 'not JSON: a cancel request is {"jobId": "<the job\'s id>"}' }
  }
  if (!isRecord(value)) return { invalid: 'not a JSON object: a cancel request is {"jobId": "<the job\'s id>"}' }
  if (typeof value.jobId !== 'string') return { invalid: '"jobId" is missing or not a string' }
  if (!JOB_ID_PATTERN.test(value.jobId)) return { invalid: `"jobId" is not a job id (1-128 characters of A-Z a-z 0-9 . _ : -)` }
  return { jobId: value.jobId }
}

/** Reads a response or error message of a job; null when it is neither. */
export function readJobOutcome (payload: string): JobResult | JobErrorMessage | null {
  try {
    const value: unknown = JSON.parse(payload)
    if (!isRecord(value) || typeof value.printerId !== 'string') return null
    if (value.status !== undefined) {
      // A result: only `printed` or `sent` may be taken for success.
      if (typeof value.jobId !== 'string' || !(JOB_STATUSES as readonly unknown[]).includes(value.status)) return null
      return value as unknown as JobResult
    }
    // An error; an unknown code is kept (it is an error either way), but `retryable` decides whether to wait.
    if (typeof value.code !== 'string' || typeof value.message !== 'string' || typeof value.retryable !== 'boolean') return null
    if (value.jobId !== undefined && typeof value.jobId !== 'string') return null
    return value as unknown as JobErrorMessage
  } catch {
    return null
  }
}
