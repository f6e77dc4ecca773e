/**
 * The one place a printer's jobs change phase on disk: taken in (`queued`, or `printing` when it goes to the
 * idle printer at once), marked `printing` before its first byte, put back to `queued` when nothing of an
 * attempt printed beyond the tickets acknowledged, and finished (its outcome stored, the job gone from the queue,
 * remembered for duplicates), with the next job's mark in the same sync.
 *
 * Never print twice: a job whose bytes may have reached the printer (an attempt that ended neither finished nor
 * put back, or a `printing` mark found on disk at start) is never sent again (`beforeSend` refuses it), and a job
 * id that finished is answered with its stored outcome (`storedOutcome`), never printed again.
 *
 * Cancelled (SPEC "No relay, cancel"): a job that has not started is finished `JOB_CANCELLED`, and an id not known
 * yet gets `JOB_CANCELLED` as its stored outcome (`cancel`, `cancelAhead`). A cancel and the job's first byte
 * exclude each other: once `beforeSend` has begun, the job has started (`started`) and a cancel leaves it; once a
 * cancel has begun, `beforeSend` waits for it and refuses the job if it was stored, and the job's own outcome
 * (`finish`) is never stored on top of it. A cancel that cannot be stored has no effect.
 */
import { PrintwireError, type JobErrorMessage } from '../protocol/index.ts'
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
  /** Jobs whose `printing` mark is being written, their first byte next (`beforeSend`). */
  private readonly sending = new WeakSet<SpooledJob>()
  /** Jobs whose outcome is stored or being stored (`finish`, `cancel`). */
  private readonly ending = new WeakSet<SpooledJob>()
  /** Cancels begun: each resolves true once its JOB_CANCELLED is on disk, false if it could not be stored. */
  private readonly cancels = new WeakMap<SpooledJob, Promise<boolean>>()
  /** Jobs whose cancel is on disk. */
  private readonly cancelled = new WeakSet<SpooledJob>()

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
    // A cancel under way is waited for; after it, nothing is awaited before the mark begins (see the file comment).
    for (let cancel = this.cancels.get(job); cancel !== undefined; cancel = this.cancels.get(job)) {
      if (await cancel) throw new PrintwireError('JOB_CANCELLED', `job ${job.id} was cancelled: it is not sent`)
    }
    if (this.maybePrinted.has(job)) {
      throw new PrintwireError('UNCERTAIN', `job ${job.id} may have printed already: it is not sent again`, { retryable: false })
    }
    if (job.phase !== 'printing') {
      job.phase = 'printing'
      this.sending.add(job)
      try {
        await this.deps.spool.update(job)
      } catch (error) {
        // Not on disk: the next attempt must write the mark again before a byte goes out.
        job.phase = 'queued'
        throw error
      } finally {
        this.sending.delete(job)
      }
    }
    this.maybePrinted.add(job)
  }

  /**
   * Whether printing the job has begun, for a cancel: a byte of it may have reached the printer (or is about to),
   * or a copy of it printed before a fault.
   */
  started (job: SpooledJob): boolean {
    return this.maybePrinted.has(job) || this.sending.has(job) || job.copiesDone > 0
  }

  /** Whether the job's outcome is stored or being stored: too late to cancel it. */
  isEnding (job: SpooledJob): boolean {
    return this.ending.has(job)
  }

  /** Whether the job's cancel is on disk: it leaves the queue unprinted. */
  isCancelled (job: SpooledJob): boolean {
    return this.cancelled.has(job)
  }

  /** The bytes of a queued job; undefined once it is cancelled (its record is gone from the spool). */
  async bytesOf (job: SpooledJob): Promise<Buffer | undefined> {
    if (this.cancelled.has(job)) return undefined
    try {
      return await this.deps.spool.jobBytes(job)
    } catch (error) {
      if (await this.cancels.get(job) === true) return undefined
      throw error
    }
  }

  /**
   * Cancels a queued job that has not started (jobDecision.ts decided so): its `JOB_CANCELLED` is stored (the job
   * leaves the spool's queue, and is remembered for duplicates), then published. Throws when it cannot be stored:
   * the job is then as it was.
   */
  async cancel (job: SpooledJob, message: JobErrorMessage): Promise<void> {
    if (this.started(job) || this.ending.has(job)) throw new Error(`job ${job.id} has started or is finished: not cancelled`)
    let settle: (stored: boolean) => void = () => {}
    this.cancels.set(job, new Promise((resolve) => { settle = resolve }))
    this.ending.add(job)
    let entry: OutboxEntry
    try {
      entry = await this.deps.spool.finish(this.deps.printerId, { kind: 'error', message }, job)
    } catch (error) {
      this.cancels.delete(job)
      this.ending.delete(job)
      settle(false)
      throw error
    }
    this.cancelled.add(job)
    settle(true)
    this.deps.deliver(entry)
  }

  /** A cancel of a job id not known here: `JOB_CANCELLED` is stored as its outcome (answered when it arrives), then published. */
  async cancelAhead (jobId: string, message: JobErrorMessage): Promise<void> {
    this.deps.deliver(await this.deps.spool.settle(this.deps.printerId, jobId, { kind: 'error', message }))
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
    if (job !== undefined) {
      // A cancelled job's outcome is its cancel's (and the next job's mark is not written with it).
      for (let cancel = this.cancels.get(job); cancel !== undefined; cancel = this.cancels.get(job)) {
        if (!await cancel) continue
        if (next !== undefined) next.phase = 'queued'
        return
      }
      this.ending.add(job)
    }
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
