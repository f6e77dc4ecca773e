/**
 * Taking a printer's jobs in from the broker: a payload is parsed, a job id the printer already knows is answered
 * (jobDecision.ts), a job over the queue's limits is refused `QUEUE_FULL`, and any other job is spooled and queued.
 * Each call resolves once the job is safe (durably spooled, or its answer durably in the outbox): only then may
 * the broker be acknowledged. Nothing here waits for the printer. Cancels (`cancel`) come in the same way.
 */
import { randomUUID } from 'node:crypto'
import { parseJob, peekJobId, PrintwireError, readCancelRequest, type ErrorCode, type JobErrorMessage } from '../protocol/index.ts'
import type { Logger } from '../runtime/logger.ts'
import type { BrokerClock } from './brokerClock.ts'
import type { Clock } from './clock.ts'
import type { PrinterAddress, RelayConfig } from './config.ts'
import { decide } from './jobDecision.ts'
import type { JobPhases } from './jobPhases.ts'
import type { PrinterQueue } from './printerQueue.ts'
import type { JobSpool } from './spool.ts'

export interface JobIntakeDeps {
  config: Pick<RelayConfig, 'RELAY_ID' | 'MAX_JOB_BYTES' | 'MAX_QUEUED_JOBS' | 'MAX_QUEUED_BYTES'>
  printer: PrinterAddress
  logger: Logger
  spool: JobSpool
  phases: JobPhases
  queue: PrinterQueue
  brokerClock: BrokerClock
  clock: Clock
  /** An error message about this printer, dated now. */
  errorMessage: (jobId: string | undefined, code: ErrorCode, message: string) => JobErrorMessage
  /** Publishes an error that is not stored (the spool cannot write). */
  deliverUnstored: (message: JobErrorMessage) => void
  /** Whether the printer is idle and working, so that a job arriving now goes to it at once. */
  idle: () => boolean
  /** A job was queued. */
  onQueued: () => void
  /** A queued job was cancelled; `head`: it was at the head of the queue, where the printer's worker may be waiting on it. */
  onCancelled: (head: boolean) => void
}

export class JobIntake {
  private readonly deps: JobIntakeDeps
  /** A job taken in to go to the idle printer at once is being written (see `take`). */
  private arrivingStraight = false

  constructor (deps: JobIntakeDeps) {
    this.deps = deps
  }

  /**
   * Takes a payload from `printers/<id>/jobs`. Rejects with `RELAY_DISK_FULL` when the spool cannot write: the
   * job is not taken, and its client is told.
   */
  async accept (payload: Buffer): Promise<void> {
    try {
      await this.take(payload)
    } catch (error) {
      if (this.deps.spool.problem === undefined) throw error
      this.withheld(payload)
      throw error instanceof PrintwireError ? error : new PrintwireError('RELAY_DISK_FULL', `the relay cannot take the job: ${this.deps.spool.problem}`, { cause: error })
    }
  }

  /**
   * Tells a job's client that the relay does not take it now because its spool cannot write: the broker keeps
   * it and delivers it again once the relay can (`retryable`). Not stored: the disk is what failed.
   */
  withheld (payload: Buffer): void {
    const { logger, config, spool, printer } = this.deps
    const jobId = peekJobId(payload)
    const problem = spool.problem ?? 'relay disk full'
    logger.warn({ jobId, bytes: payload.length, problem }, 'job not taken: the spool cannot write; it stays with the broker')
    this.deps.deliverUnstored(this.deps.errorMessage(jobId, 'RELAY_DISK_FULL', `relay ${config.RELAY_ID} cannot take ${jobId === undefined ? 'this job' : `job ${jobId}`} for printer ${printer.id} now (${problem}): it stays with the broker, which delivers it again once the relay can write`))
  }

  /**
   * A job delivered as a retained message: a new relay session gets it again each time, so it is never printed
   * from there. Answered with its original outcome if its id has one here (the job printed when it was published
   * live), ignored while it is queued, and otherwise an INVALID_JOB error about the printer, not the job (another
   * relay may have printed it).
   */
  async refuseRetained (payload: Buffer): Promise<void> {
    const jobId = peekJobId(payload)
    if (jobId !== undefined && await this.answeredAsKnown(jobId, true)) return
    // Without the job's id: the job itself may have printed where it was first delivered live (Mosquitto forwards
    // a retained publish to the subscribers of the moment), and its publisher then has that answer.
    this.deps.logger.warn({ jobId, bytes: payload.length }, 'retained job not printed')
    const which = jobId === undefined ? 'a retained job' : `a retained copy of job ${jobId}`
    await this.answerError(undefined, 'INVALID_JOB', `${which} was delivered from the broker's retained messages and is not printed from there (every new relay session would print it again); clear it with an empty retained publish on the jobs topic, and publish jobs without the retain flag`)
  }

  /**
   * Takes a payload from `printers/<id>/cancel` (SPEC "No relay, cancel"). Resolves once its effect is on disk (the
   * job's `JOB_CANCELLED` stored, or stored ahead for an id not arrived yet), or once it has none (the job started or
   * finished, or the request is not valid: both logged): only then may the broker be acknowledged. Rejects when
   * the spool cannot write: the cancel has no effect, and the broker delivers it again on the next connection.
   */
  async cancel (payload: Buffer): Promise<void> {
    try {
      await this.applyCancel(payload)
    } catch (error) {
      const problem = this.deps.spool.problem
      if (problem === undefined) throw error
      throw new PrintwireError('RELAY_DISK_FULL', `the relay cannot apply the cancel: ${problem}`, { cause: error })
    }
  }

  private async applyCancel (payload: Buffer): Promise<void> {
    const { logger, queue, phases, printer, config } = this.deps
    const request = readCancelRequest(payload.toString('utf8'))
    if ('invalid' in request) {
      logger.warn({ bytes: payload.length, reason: request.invalid }, 'cancel request not valid: ignored')
      return
    }
    const { jobId } = request
    const job = queue.find(jobId)
    const known = job === undefined
      ? (await phases.storedOutcome(jobId) === undefined ? undefined : 'done')
      : phases.isEnding(job) ? 'done' : job.phase
    const decision = decide({ event: 'cancel', known, started: job !== undefined && phases.started(job) })
    if (decision.action === 'leave') {
      logger.info({ jobId, why: decision.why }, decision.why === 'started' ? 'cancel too late: the job has started printing, it is not touched' : 'cancel too late: the job is finished')
      return
    }
    if (decision.action === 'cancel-ahead' || job === undefined) {
      await phases.cancelAhead(jobId, this.deps.errorMessage(jobId, 'JOB_CANCELLED', `job ${jobId} was cancelled before it reached relay ${config.RELAY_ID}: if it arrives, it is not printed`))
      logger.info({ jobId }, 'job cancelled before it arrived: answered JOB_CANCELLED if it does')
      return
    }
    const head = queue.head?.job === job
    await phases.cancel(job, this.deps.errorMessage(jobId, 'JOB_CANCELLED', `job ${jobId} was cancelled before it started printing on printer ${printer.id}: it is not printed`))
    queue.remove(job)
    logger.info({ jobId, queued: queue.length }, 'job cancelled before it started printing')
    this.deps.onCancelled(head)
  }

  /** A job id this printer knows: ignored while queued, answered with its stored outcome once done. True when handled. */
  private async answeredAsKnown (jobId: string, retained: boolean): Promise<boolean> {
    const { logger, queue, phases } = this.deps
    const queued = queue.has(jobId)
    const stored = queued ? undefined : await phases.storedOutcome(jobId)
    const decision = decide({ event: 'arrived', known: queued ? 'queued' : stored === undefined ? undefined : 'done', retained })
    if (decision.action === 'ignore') {
      if (!retained) logger.info({ jobId }, 'duplicate of a queued job: ignored')
      return true
    }
    if (decision.action !== 'answer-stored' || stored === undefined) return false
    logger.info({ jobId, outcome: stored.kind }, retained ? 'retained copy of a finished job: answered with its original outcome' : 'duplicate of a finished job: answered with its original outcome')
    await phases.answer(stored)
    return true
  }

  private async take (payload: Buffer): Promise<void> {
    const { logger, config, queue } = this.deps
    let parsed
    try {
      parsed = parseJob(payload, config.MAX_JOB_BYTES)
    } catch (error) {
      if (!(error instanceof PrintwireError)) throw error
      const jobId = peekJobId(payload)
      logger.warn({ jobId, code: error.code, bytes: payload.length, reason: error.message }, 'job refused')
      await this.answerError(jobId, error.code, error.message)
      return
    }
    if (parsed.id !== undefined && await this.answeredAsKnown(parsed.id, false)) return
    const size = parsed.data.length
    if (!queue.fits(size, { maxJobs: config.MAX_QUEUED_JOBS, maxBytes: config.MAX_QUEUED_BYTES })) {
      await this.refuseQueueFull(parsed.id, size)
      return
    }
    // A job that goes to an idle, working printer at once is marked `printing` in the same sync that takes
    // it in, rather than in a second one just before its first byte. (A crash in between then reports it
    // UNCERTAIN though nothing was sent: never a duplicate print.)
    // Decided and claimed in one step: jobs arriving together must not all count as the one going straight.
    // Not a job that must first wait for the broker's time (expiresAt, at start): its mark would stand for seconds.
    const straight = queue.length === 0 && this.deps.idle() && !this.arrivingStraight && (parsed.expiresAt === undefined || this.deps.brokerClock.settled)
    if (straight) this.arrivingStraight = true
    let job
    try {
      job = await queue.admit(size, () => this.deps.phases.take({
        id: parsed.id ?? `relay-${randomUUID()}`,
        printerId: this.deps.printer.id,
        copies: parsed.copies,
        receivedAt: this.deps.clock.now(),
        ...(parsed.expiresAt === undefined ? {} : { expiresAt: parsed.expiresAt })
      }, parsed.data, straight ? 'printing' : 'queued'))
    } finally {
      if (straight) this.arrivingStraight = false
    }
    logger.info({ jobId: job.id, bytes: size, copies: job.copies, queued: queue.length, queuedBytes: queue.waitingBytes }, 'job spooled')
    this.deps.onQueued()
  }

  private refuseQueueFull (jobId: string | undefined, size: number): Promise<void> {
    const { logger, config, printer, queue } = this.deps
    const { waiting, waitingBytes } = queue
    logger.warn({ jobId, bytes: size, queued: waiting, queuedBytes: waitingBytes }, 'job refused: the printer\'s queue is full')
    return this.answerError(jobId, 'QUEUE_FULL', `printer ${printer.id} already has ${waiting} job(s) of ${waitingBytes} bytes waiting in relay ${config.RELAY_ID} (limits: MAX_QUEUED_JOBS ${config.MAX_QUEUED_JOBS}, MAX_QUEUED_BYTES ${config.MAX_QUEUED_BYTES}); this job of ${size} bytes is not taken: send it again once the printer has caught up`)
  }

  /** An error that finishes no job (a refusal), stored then published. */
  private answerError (jobId: string | undefined, code: ErrorCode, message: string): Promise<void> {
    return this.deps.phases.answer({ kind: 'error', message: this.deps.errorMessage(jobId, code, message) })
  }
}
