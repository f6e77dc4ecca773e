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
  QUEUE_FULL: { retryable: false, summary: 'the printer already has MAX_QUEUED_JOBS jobs or MAX_QUEUED_BYTES bytes waiting in the relay, or for its relay at the broker' },
  /** SPEC "No relay, cancel": no relay session subscribes to the printer's jobs; the job is not kept. */
  NO_RELAY: { retryable: false, summary: 'no relay serves the printer: the job was not kept' },
  /** SPEC "No relay, cancel": the job was cancelled before it started printing. */
  JOB_CANCELLED: { retryable: false, summary: 'the job was cancelled before it started printing' }
} as const

export type ErrorCode = keyof typeof ERROR_CODES

export function isErrorCode (value: string): value is ErrorCode {
  return Object.hasOwn(ERROR_CODES, value)
}

/**
 * Codes of the errors a program meets locally, never published as a job's result: a setting or a file that is
 * not valid, a refusal by the broker, a command's wrong argument. Same shape as ERROR_CODES.
 */
export const LOCAL_ERROR_CODES = {
  INVALID_CONFIG: { retryable: false, summary: 'a setting (environment variable) is missing or not valid' },
  INVALID_AUTH_FILE: { retryable: false, summary: 'AUTH_FILE is missing or not valid' },
  INVALID_ARGUMENT: { retryable: false, summary: 'a command-line argument or option is not valid' },
  CANNOT_EXPORT: { retryable: false, summary: 'AUTH_FILE cannot be written as Mosquitto files' },
  UNSUPPORTED_AEDES_VERSION: { retryable: false, summary: 'an installed Aedes package is not the exact version the broker works around' },
  PUBLISH_NOT_ALLOWED: { retryable: false, summary: 'the user may not publish to this topic' },
  WILL_NOT_ALLOWED: { retryable: false, summary: 'the Last Will is not one the client may leave' },
  NOT_ALLOWED: { retryable: false, summary: 'the broker refused what the user asked for (a subscription)' },
  LOGIN_REFUSED: { retryable: false, summary: 'the broker refused the log-in' },
  BROKER_UNREACHABLE: { retryable: true, summary: 'the broker cannot be reached' },
  PUBLISH_REFUSED: { retryable: false, summary: 'the broker closed the connection when the job was published' },
  TIMEOUT: { retryable: true, summary: 'no answer in time (the job may still print: sending it again with the same id never prints it twice)' },
  ABORTED: { retryable: true, summary: 'the caller stopped waiting (an AbortSignal)' },
  UNAUTHORIZED: { retryable: false, summary: 'no valid credentials (HTTP 401)' },
  FORBIDDEN: { retryable: false, summary: 'the credentials do not grant this (HTTP 403)' },
  NOT_FOUND: { retryable: false, summary: 'no such printer, job or route (HTTP 404)' },
  UNSUPPORTED_MEDIA_TYPE: { retryable: false, summary: 'a request body of a content type the route does not take (HTTP 415)' },
  /** SPEC "Browser tokens": a token asked for with no printers, a bad printer id, or a TTL out of 1 s..24 h. */
  INVALID_TOKEN_REQUEST: { retryable: false, summary: 'a token request is not valid (printers, ttlSeconds)' },
  JOB_NOT_CANCELLABLE: { retryable: false, summary: 'the job has started printing or has ended: it cannot be cancelled (HTTP 409)' },
  INTERNAL_ERROR: { retryable: true, summary: 'the server failed to answer (HTTP 500); it is logged' },
  /** Issue 14: a part cannot listen on a port (MQTT_PORT, PORT, MQTTS_PORT) another program holds; it exits. */
  PORT_IN_USE: { retryable: false, summary: 'a port the part must listen on is in use by another program' },
  /** Issue 14: PERSISTENCE=redis and no Redis answers at REDIS_URL at start-up; the broker exits. */
  REDIS_UNREACHABLE: { retryable: true, summary: 'Redis (REDIS_URL) cannot be reached' }
} as const

export type LocalErrorCode = keyof typeof LOCAL_ERROR_CODES

/** Every code a PrintwireError may carry. */
export type PrintwireErrorCode = ErrorCode | LocalErrorCode

/**
 * Every error that callers branch on, in every part: a stable `code` from the catalogues above (branch on it),
 * a `message` for people, and whether trying again later may succeed.
 */
export class PrintwireError<C extends PrintwireErrorCode = PrintwireErrorCode> extends Error {
  readonly code: C
  readonly retryable: boolean
  /** The job it concerns, when it concerns one (the client library's `print`). */
  readonly jobId?: string
  /** The printer it concerns, when it concerns one. */
  readonly printerId?: string

  constructor (code: C, message: string, options?: { cause?: unknown, retryable?: boolean, jobId?: string, printerId?: string }) {
    super(message, options?.cause === undefined ? undefined : { cause: options.cause })
    this.name = 'PrintwireError'
    this.code = code
    if (options?.jobId !== undefined) this.jobId = options.jobId
    if (options?.printerId !== undefined) this.printerId = options.printerId
    // A code from a newer part (a relay's result) may be in neither table here: not retryable unless told.
    const known = isErrorCode(code) ? ERROR_CODES[code] : (LOCAL_ERROR_CODES as Partial<Record<string, { retryable: boolean }>>)[code]
    this.retryable = options?.retryable ?? known?.retryable ?? false
  }
}

/** Whether `error` is a PrintwireError, optionally with one of `codes`. */
export function isPrintwireError (error: unknown, ...codes: PrintwireErrorCode[]): error is PrintwireError {
  return error instanceof PrintwireError && (codes.length === 0 || codes.includes(error.code))
}
