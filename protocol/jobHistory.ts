/**
 * The job history (SPEC "HTTP API": `GET /api/jobs/<jobId>`, the dashboard): what is known of each job, and how
 * what the broker sees on the printer topics becomes that. Browser-safe: no Node imports.
 *
 * A store keeps a job's facts (`JobFacts`: when it was published and by whom, its outcome, the retryable errors
 * seen, a cancel request); the record a reader gets (`JobRecord`) is derived from them by `jobRecordOf`, in one
 * place for every store. Facts are merged by `mergeJobEvent` one event at a time; the Redis store writes each
 * fact to a field of its own instead, so that two broker instances (one sees the job published, the other its
 * result) never overwrite each other's facts.
 */
import type { JobErrorMessage, JobResult } from './payloads.ts'

/** `pending` until the job's result or final error is seen; `cancelled` is a final `JOB_CANCELLED` error. */
export type JobState = 'pending' | 'printed' | 'sent' | 'failed' | 'cancelled'
export const JOB_STATES: readonly JobState[] = ['pending', 'printed', 'sent', 'failed', 'cancelled']

/** Retryable errors kept per job (the latest ones); `retryableErrorCount` counts them all. */
export const MAX_RETRYABLE_ERRORS_KEPT = 20

/** An error of a job as the history keeps it: `at` is the time the relay (or broker) gave it. */
export interface JobHistoryError {
  code: string
  message: string
  at: string
}

/** What is known of one job. */
export interface JobRecord {
  jobId: string
  printerId: string
  /**
   * Who published it: the AUTH_FILE user on the embedded broker; null when not known (on Mosquitto, where the web
   * server records the history as a client; a job seen only through its result, such as a raw job, whose id the
   * relay makes; or a job published by the broker itself).
   */
  user: string | null
  /** True when the embedded broker had no AUTH_FILE: the job was published by an anonymous client. */
  anonymous?: true
  /** When it was first seen published (ISO-8601); null when it was never seen published (see `user`). */
  publishedAt: string | null
  state: JobState
  /** The `responses` payload, when `printed` or `sent`. */
  result?: JobResult
  /** The final error, when `failed` or `cancelled`. */
  error?: JobHistoryError
  /** When its result or final error was seen (ISO-8601). */
  finishedAt?: string
  /** The latest retryable errors seen (`PRINTER_UNREACHABLE`, ...), oldest first, at most MAX_RETRYABLE_ERRORS_KEPT. */
  retryableErrors: JobHistoryError[]
  /** Every retryable error seen, including those no longer listed. */
  retryableErrorCount: number
  /** A cancel request seen on `<prefix>/<id>/cancel` (the job is `cancelled` only once the relay answers JOB_CANCELLED). */
  cancelRequested?: { at: string, user: string | null }
}

/** Who published a message, as far as the recorder can tell. */
export interface Publisher {
  user: string | null
  anonymous?: boolean
}

/** What the history learns from one message; `seenAt` is the recorder's clock (epoch ms) when it saw it. */
export type JobEvent =
  | { kind: 'published', jobId: string, printerId: string, publisher: Publisher, seenAt: number }
  | { kind: 'result', result: JobResult, seenAt: number }
  | { kind: 'error', error: JobErrorMessage & { jobId: string }, seenAt: number }
  | { kind: 'cancelRequested', jobId: string, printerId: string, publisher: Publisher, seenAt: number }

/** The job an event is about. */
export function jobOfEvent (event: JobEvent): { jobId: string, printerId: string } {
  switch (event.kind) {
    case 'published':
    case 'cancelRequested':
      return { jobId: event.jobId, printerId: event.printerId }
    case 'result':
      return { jobId: event.result.jobId, printerId: event.result.printerId }
    case 'error':
      return { jobId: event.error.jobId, printerId: event.error.printerId }
  }
}

/** A job's outcome: its result, or its final error. */
export interface JobOutcome {
  seenAt: number
  result?: JobResult
  error?: JobHistoryError
}

/** What a store keeps of one job. */
export interface JobFacts {
  jobId: string
  /** The printer of the first event seen for this id (a job id names one job). */
  printerId: string
  /** When the store first saw this job (epoch ms): its place in the lists, and the start of its retention. */
  firstSeenAt: number
  /** Publishes seen: the first one's time, and the latest one's time and publisher (a job sent again with its id). */
  published?: { firstAt: number, lastAt: number, user: string | null, anonymous?: true }
  outcome?: JobOutcome
  retryableErrors: JobHistoryError[]
  retryableErrorCount: number
  cancelRequested?: { at: number, user: string | null }
}

/** Empty facts for a job first seen through `event`. */
export function newJobFacts (event: JobEvent): JobFacts {
  return { ...jobOfEvent(event), firstSeenAt: event.seenAt, retryableErrors: [], retryableErrorCount: 0 }
}

function publisherFields (publisher: Publisher): { user: string | null, anonymous?: true } {
  return { user: publisher.user, ...(publisher.anonymous === true ? { anonymous: true as const } : {}) }
}

/** The outcome an event carries, if it is a result or a final error. */
export function outcomeOf (event: JobEvent): JobOutcome | undefined {
  if (event.kind === 'result') return { seenAt: event.seenAt, result: keptResult(event.result) }
  if (event.kind === 'error' && !event.error.retryable) return { seenAt: event.seenAt, error: keptError(event.error) }
  return undefined
}

/**
 * What the history keeps of a result and of an error: results and errors are JSON of whoever may publish them (a
 * relay's user; anyone without AUTH_FILE), up to the broker's packet size, and the history keeps one of each and
 * MAX_RETRYABLE_ERRORS_KEPT retryable errors per job, for every job it holds. Texts are clipped to
 * MAX_KEPT_TEXT_LENGTH characters; a result larger than MAX_KEPT_RESULT_BYTES as JSON keeps only its own fields
 * (not the printer's report, nor fields it should not have).
 */
export const MAX_KEPT_TEXT_LENGTH = 1000
export const MAX_KEPT_RESULT_BYTES = 4096

function keptText (value: unknown): string {
  const text = typeof value === 'string' ? value : String(value)
  return text.length <= MAX_KEPT_TEXT_LENGTH ? text : `${text.slice(0, MAX_KEPT_TEXT_LENGTH)}…`
}

export function keptError (error: { code: string, message: string, at: string }): JobHistoryError {
  return { code: keptText(error.code), message: keptText(error.message), at: keptText(error.at) }
}

function keptResult (result: JobResult): JobResult {
  if (JSON.stringify(result).length <= MAX_KEPT_RESULT_BYTES) return result
  const { jobId, printerId, status, bytes, durationMs, at } = result
  return { jobId: keptText(jobId), printerId: keptText(printerId), status, bytes, durationMs, at: keptText(at) } as JobResult
}

/**
 * Whether `event` belongs to the job of `facts`: a job id names one job, on the printer it was first seen on. An
 * event of another printer under a known id is not that job's: merged, it would let a client of one printer read
 * (GET /api/jobs/<id>) another printer's job, or hide it from its owner, by using its id on its own printer first.
 */
export function isSameJob (facts: Pick<JobFacts, 'printerId'>, event: JobEvent): boolean {
  return jobOfEvent(event).printerId === facts.printerId
}

/**
 * `facts` (undefined: a job not seen before) with `event` added; `facts` itself is not changed. An event of
 * another printer under the same id (see `isSameJob`) is ignored: `facts` is returned as it is.
 */
export function mergeJobEvent (facts: JobFacts | undefined, event: JobEvent): JobFacts {
  if (facts !== undefined && !isSameJob(facts, event)) return facts
  const merged: JobFacts = facts === undefined ? newJobFacts(event) : { ...facts, retryableErrors: [...facts.retryableErrors] }
  switch (event.kind) {
    case 'published':
      merged.published = { firstAt: merged.published?.firstAt ?? event.seenAt, lastAt: event.seenAt, ...publisherFields(event.publisher) }
      break
    case 'cancelRequested':
      merged.cancelRequested = { at: event.seenAt, user: event.publisher.user }
      break
    case 'result':
      merged.outcome = outcomeOf(event)
      break
    case 'error': {
      const outcome = outcomeOf(event)
      if (outcome !== undefined) {
        merged.outcome = outcome
      } else {
        merged.retryableErrors = [...merged.retryableErrors, keptError(event.error)].slice(-MAX_RETRYABLE_ERRORS_KEPT)
        merged.retryableErrorCount += 1
      }
      break
    }
  }
  return merged
}

function stateOfOutcome (outcome: JobOutcome): JobState {
  if (outcome.result !== undefined) return outcome.result.status
  return outcome.error?.code === 'JOB_CANCELLED' ? 'cancelled' : 'failed'
}

const iso = (ms: number): string => new Date(ms).toISOString()

/**
 * The record readers get. A job published again (with its id) after its outcome was seen is `pending` again: the
 * relay answers it anew (a duplicate of a printed job with its original result; a job that failed, such as
 * NO_RELAY, may print this time).
 */
export function jobRecordOf (facts: JobFacts): JobRecord {
  const { outcome, published } = facts
  const current = outcome !== undefined && (published === undefined || published.lastAt <= outcome.seenAt) ? outcome : undefined
  return {
    jobId: facts.jobId,
    printerId: facts.printerId,
    user: published?.user ?? null,
    ...(published?.anonymous === true ? { anonymous: true as const } : {}),
    publishedAt: published === undefined ? null : iso(published.firstAt),
    state: current === undefined ? 'pending' : stateOfOutcome(current),
    ...(current?.result === undefined ? {} : { result: current.result }),
    ...(current?.error === undefined ? {} : { error: current.error }),
    ...(current === undefined ? {} : { finishedAt: iso(current.seenAt) }),
    retryableErrors: facts.retryableErrors,
    retryableErrorCount: facts.retryableErrorCount,
    ...(facts.cancelRequested === undefined ? {} : { cancelRequested: { at: iso(facts.cancelRequested.at), user: facts.cancelRequested.user } })
  }
}

/** What `list` returns: newest first (by when each job was first seen). */
export interface JobHistoryQuery {
  printerId?: string
  state?: JobState
  /** Only jobs first seen at or after this time (epoch ms). */
  since?: number
  /** Only jobs first seen at or before this time (epoch ms). */
  until?: number
  /**
   * Only jobs of the printers this accepts (a caller's grants: `GET /api/jobs`). Applied before `limit`, so a
   * caller gets up to `limit` of its own jobs, never fewer because of others'.
   */
  visible?: (printerId: string) => boolean
  /** At most this many (1 to MAX_JOB_HISTORY_LIST). */
  limit: number
}

/** The most records one `list` returns. */
export const MAX_JOB_HISTORY_LIST = 1000

/** What the HTTP API and the dashboard read. */
export interface JobHistoryReader {
  /** The job's record; undefined when unknown, or older than the retention. */
  get(jobId: string): Promise<JobRecord | undefined>
  /** Records newest first. */
  list(query: JobHistoryQuery): Promise<JobRecord[]>
}
