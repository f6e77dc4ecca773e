/**
 * The one place a printer's jobs change phase on disk: taken in (`queued`, or `printing` when it goes to the
 * idle printer at once), marked `printing` before its first byte, put back to `queued` when nothing of an
 * attempt printed beyond the tickets acknowledged, and finished (its outcome stored, the job gone from the queue,
 * remembered for duplicates), with the next job's mark in the same sync.
 *
 * Never print twice: a job whose bytes may have reached the printer (an attempt that ended neither finished nor
 * put back, or a `printing` mark found on disk at start) is never sent again (`beforeSend` refuses it), and a job
 * id that finished is answered with its stored outcome (`storedOutcome`), never printed again.
 */
import { PrintwireError } from '../protocol/index.ts'
import type { Logger } from '../runtime/logger.ts'
import type { JobSpool } from './spool.ts'
import type { JobPhase, NewJob, OutboxEntry, SpooledJob, StoredOutcome } from './spoolLayout.ts'

export interface JobPhasesDeps {
  printerId: string
  spool: JobSpool
  logger: Logger
  /** Publishes an outcome once it is stored. */
  deliver: (entry: OutboxEntry) => void
  /** The worker is stopping: an outcome that cannot be stored is left (its job stays `printing`: UNCERTAIN after a restart). */
  stopped: () => boolean
  /** Resolves once the spool may be able to write again (or the worker stops). */
  waitForSpool: () => Promise<void>
}

export class JobPhases {
  private readonly deps: JobPhasesDeps
  /** Jobs whose bytes may have reached the printer since their `printing` mark, their outcome not yet known. */
  private readonly maybePrinted = new WeakSet<SpooledJob>()

  constructor (deps: JobPhasesDeps) {
    this.deps = deps
  }

  /** The outcome stored for a finished job id, if it is still remembered. */
  storedOutcome (jobId: string): Promise<StoredOutcome | undefined> {
    return this.deps.spool.outcomeOf(this.deps.printerId, jobId)
  }

  /** A job found on disk at start still marked `printing`: it may have printed, and is never sent again. */
  resumedPrinting (job: SpooledJob): void {
    this.maybePrinted.add(job)
  }

  /** Takes a job in, durably: `queued`, or `printing` when it goes to the idle printer at once (one sync for both). */
  take (job: NewJob, bytes: Buffer, phase: JobPhase): Promise<SpooledJob> {
    return this.deps.spool.add(job, bytes, phase)
  }

  /**
   * Just before a job's first byte goes out: its `printing` mark on disk (unless marked ahead, and so already
   * there). Refuses, with `UNCERTAIN`, a job that may have printed already.
   */
  async beforeSend (job: SpooledJob): Promise<void> {
    if (this.maybePrinted.has(job)) {
      throw new PrintwireError('UNCERTAIN', `job ${job.id} may have printed already: it is not sent again`, { retryable: false })
    }
    if (job.phase !== 'printing') {
      job.phase = 'printing'
      try {
        await this.deps.spool.update(job)
      } catch (error) {
        // Not on disk: the next attempt must write the mark again before a byte goes out.
        job.phase = 'queued'
        throw error
      }
    }
    this.maybePrinted.add(job)
  }

  /** Nothing of the attempt printed beyond `acks` tickets: the job goes back to `queued`, keeping the copies done. */
  async requeue (job: SpooledJob, acks: number, ticketsPerCopy: number): Promise<void> {
    if (ticketsPerCopy > 0) job.copiesDone += Math.floor(acks / ticketsPerCopy)
    if (job.copiesDone >= job.copies) job.copiesDone = job.copies - 1
    // Known before the write: even if it fails (a full disk), the job may go again once the spool can write
    // (`beforeSend` then writes its mark again; a crash meanwhile leaves it `printing` on disk: UNCERTAIN).
    this.maybePrinted.delete(job)
    if (job.phase !== 'queued') {
      job.phase = 'queued'
      await this.deps.spool.update(job)
    }
  }

  /** Marks the job to print next `printing` in memory, for `finish` to write with the outcome before it. */
  markAhead (job: SpooledJob): void {
    job.phase = 'printing'
  }

  /**
   * At a clean stop: the head job, if it was marked ahead and not a byte of it sent, goes back to `queued`
   * (it then prints after a restart, rather than being reported UNCERTAIN).
   */
  async unmarkUnsent (job: SpooledJob): Promise<void> {
    if (job.phase !== 'printing' || this.maybePrinted.has(job)) return
    job.phase = 'queued'
    await this.deps.spool.update(job).catch((error: unknown) => this.deps.logger.warn({ err: error, jobId: job.id }, 'could not unmark a job that was not sent'))
  }

  /** Stores an outcome that finishes no job (a refusal, a transient error, a duplicate's answer), then publishes it. */
  answer (outcome: StoredOutcome): Promise<void> {
    return this.finish(undefined, outcome)
  }

  /**
   * Stores an outcome in the spool's outbox, then publishes it. With `job`, the job leaves the queue and its
   * outcome is remembered for duplicates; `next`: the job marked ahead (`markAhead`), its mark in the same sync.
   * Published only once on disk: publishing while writing saves a little time per job, but a relay that died in
   * that instant gave one job two answers (`printed`, then `UNCERTAIN` after its restart; seen in the soak).
   */
  async finish (job: SpooledJob | undefined, outcome: StoredOutcome, next?: SpooledJob): Promise<void> {
    const { spool, printerId, logger } = this.deps
    for (;;) {
      try {
        this.deps.deliver(await spool.finish(printerId, outcome, job, next))
        if (job !== undefined) this.maybePrinted.delete(job)
        return
      } catch (error) {
        // Not on disk: the next job's mark is not either.
        if (next !== undefined) next.phase = 'queued'
        next = undefined
        // A job that has printed must not print again: keep trying to record its outcome, not to reprint it.
        // If the relay stops first, the job stays `printing` on disk and is reported UNCERTAIN after a restart.
        if (job === undefined || this.deps.stopped()) throw error
        logger.error({ err: error, jobId: job.id }, 'could not record a job\'s outcome; retrying')
        await this.deps.waitForSpool()
      }
    }
  }
}
