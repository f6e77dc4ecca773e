/**
 * Correlation: the jobs a client waits for, keyed by printer and job id, and what a message on a printer's
 * `responses` or `errors` means for one of them (SPEC "Results"): a result ends it, a final error ends it, a
 * retryable error is progress. Pure bookkeeping: no MQTT here (printwireClient.ts feeds it).
 */
import { PrintwireError } from '../protocol/errorCodes.ts'
import { readJobOutcome, type JobErrorMessage, type JobResult } from '../protocol/payloads.ts'

/** What one message means for the job it names. */
export type JobDecision =
  | { kind: 'result', result: JobResult }
  | { kind: 'failed', error: PrintwireError }
  | { kind: 'progress', error: JobErrorMessage }

/**
 * Reads a message received on `<prefix>/<printerId>/responses` or `/errors`; null when it is neither a result
 * nor an error of a job (an error of the printer names no job), or names another printer than its topic.
 */
export function decideOutcome (printerId: string, text: string): { jobId: string, decision: JobDecision } | null {
  const outcome = readJobOutcome(text)
  if (outcome === null || typeof outcome.jobId !== 'string' || outcome.printerId !== printerId) return null
  const { jobId } = outcome
  if ('status' in outcome) return { jobId, decision: { kind: 'result', result: outcome } }
  const error = outcome as JobErrorMessage
  if (error.retryable) return { jobId, decision: { kind: 'progress', error } }
  // As the relay (or broker) says: a code of a newer part's is kept, not retryable unless told.
  return { jobId, decision: { kind: 'failed', error: new PrintwireError(error.code, error.message, { retryable: false, jobId, printerId }) } }
}

/** One job being waited for. `T` is what the client keeps with it (its promise's settle functions, ...). */
export interface PendingJob<T> {
  printerId: string
  jobId: string
  /** The payload published (and published again after a reconnect). */
  envelope: string
  /** `publishing`: no PUBACK yet (mqtt.js sends it again itself after a reconnect); `published`: the broker has it. */
  phase: 'publishing' | 'published'
  /** Connections that closed while this job's publish awaited its PUBACK (a broker refusing it closes each). */
  closesWhilePublishing: number
  extra: T
}

export class PendingJobs<T> {
  private readonly jobs = new Map<string, PendingJob<T>>()

  get size (): number {
    return this.jobs.size
  }

  has (printerId: string, jobId: string): boolean {
    return this.jobs.has(key(printerId, jobId))
  }

  get (printerId: string, jobId: string): PendingJob<T> | undefined {
    return this.jobs.get(key(printerId, jobId))
  }

  /** Adds a job; throws INVALID_ARGUMENT when this client already waits for that id on that printer. */
  add (job: Omit<PendingJob<T>, 'phase' | 'closesWhilePublishing'>): PendingJob<T> {
    const k = key(job.printerId, job.jobId)
    if (this.jobs.has(k)) {
      throw new PrintwireError('INVALID_ARGUMENT', `this client is already waiting for job "${job.jobId}" on printer "${job.printerId}"`, { jobId: job.jobId, printerId: job.printerId })
    }
    const pending: PendingJob<T> = { ...job, phase: 'publishing', closesWhilePublishing: 0 }
    this.jobs.set(k, pending)
    return pending
  }

  /** Removes a job (settled, timed out, aborted); false when it was not there. */
  delete (printerId: string, jobId: string): boolean {
    return this.jobs.delete(key(printerId, jobId))
  }

  /** The job a message on `printerId`'s responses or errors is about, and what it means; null when none of ours. */
  route (printerId: string, text: string): { job: PendingJob<T>, decision: JobDecision } | null {
    const read = decideOutcome(printerId, text)
    if (read === null) return null
    const job = this.jobs.get(key(printerId, read.jobId))
    return job === undefined ? null : { job, decision: read.decision }
  }

  /** Every job waited for, oldest first. */
  all (): Array<PendingJob<T>> {
    return [...this.jobs.values()]
  }
}

/** Printer ids hold no newline (`A-Z a-z 0-9 _ -`): the pair is unambiguous. */
function key (printerId: string, jobId: string): string {
  return `${printerId}\n${jobId}`
}
