/**
 * The error catalogue (SPEC "Results"): every error a caller may branch on has one of these codes.
 * Browser-safe: no Node imports.
 */

export const ERROR_CODES = {
  INVALID_JOB: { retryable: false, summary: 'the job is not a valid raw job or JSON envelope' },
  JOB_TOO_LARGE: { retryable: false, summary: 'the job is larger than MAX_JOB_BYTES' },
  JOB_EXPIRED: { retryable: false, summary: 'the job was not printed before it expired' },
  PRINTER_UNREACHABLE: { retryable: true, summary: 'the relay cannot connect to the printer' },
  PRINTER_TIMEOUT: { retryable: true, summary: 'the printer accepted the connection but did not take or finish the job in time' },
  PRINTER_ERROR: { retryable: true, summary: 'the printer reported a fault (paper out, jam, ...)' },
  UNCERTAIN: { retryable: false, summary: 'the relay cannot tell whether the job printed' },
  /** Not in SPEC's list (new behaviour): the job is not taken, and the broker delivers it again once the relay can write. */
  RELAY_DISK_FULL: { retryable: true, summary: 'the relay cannot write to its disk (full, or failing): the job stays with the broker and is taken once it can' },
  /** Not in SPEC's list (new behaviour): refused for good, like JOB_TOO_LARGE; the client may send it again later. */
  QUEUE_FULL: { retryable: false, summary: 'the printer already has MAX_QUEUED_JOBS jobs or MAX_QUEUED_BYTES bytes waiting in the relay, or for its relay at the broker' }
} as const

export type ErrorCode = keyof typeof ERROR_CODES

export function isErrorCode (value: string): value is ErrorCode {
  return Object.hasOwn(ERROR_CODES, value)
}

/** An error that callers branch on: it carries a stable `code`. */
export class PrintwireError extends Error {
  readonly code: ErrorCode
  readonly retryable: boolean

  constructor (code: ErrorCode, message: string, options?: { cause?: unknown, retryable?: boolean }) {
    super(message, options?.cause === undefined ? undefined : { cause: options.cause })
    this.name = 'PrintwireError'
    this.code = code
    this.retryable = options?.retryable ?? ERROR_CODES[code].retryable
  }
}
