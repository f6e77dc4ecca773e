/**
 * One printer's queue: jobs print one at a time, in the order the broker delivered them, independently
 * of every other printer. A job is acknowledged to the broker only once it is in the durable spool. A job
 * that cannot print yet (printer unreachable, out of paper, jammed) stays at the head of the queue and is
 * retried with capped exponential backoff; its error is reported once per outage, and the printer's
 * retained status follows what the printer says. What to do with a job at each step is decided by
 * jobDecision.ts; its phase changes on disk, and "never print twice", are jobPhases.ts's. A job cancelled before it
 * started (jobIntake.ts `cancel`) leaves the queue unprinted; the worker waiting on it moves on at once.
 *
 * Limits: at most MAX_QUEUED_JOBS jobs and MAX_QUEUED_BYTES bytes of data wait per printer; a job over them is
 * answered `QUEUE_FULL` and not taken. The queue in memory holds no job's bytes: they are read from the spool
 * when the job's turn comes. While the spool cannot write (a full disk), the printer's status is `error`, a job
 * arriving is not taken (no PUBACK: the broker keeps it) and its client hears `RELAY_DISK_FULL`, and nothing
 * prints whose `printing` mark is not on disk, nor is any outcome published that is not: both wait for the disk.
 */
import { splitTickets } from '../boca/fgl.ts'
import { hexDump } from '../boca/status.ts'
import type { ErrorCode, JobErrorMessage } from '../protocol/index.ts'
import type { Logger } from '../runtime/logger.ts'
import { Backoff } from './backoff.ts'
import type { BrokerClock } from './brokerClock.ts'
import { systemClock, type Clock } from './clock.ts'
import { statusEncodingOf, type PrinterAddress, type RelayConfig } from './config.ts'
import { decide, expiryOf, type Decision } from './jobDecision.ts'
import { describeFault, errorMessage, resultMessage, type JobProgress } from './jobMessages.ts'
import { JobIntake } from './jobIntake.ts'
import { JobPhases } from './jobPhases.ts'
import type { AttemptResult, PrinterChannel, PrintTimeouts, StatusTarget } from './printAttempt.ts'
import { PrinterConnection } from './printerConnection.ts'
import { PrinterQueue, type QueueEntry } from './printerQueue.ts'
import { PrinterStatus, type StatusReport } from './printerStatus.ts'
import type { JobSpool } from './spool.ts'
import { StoppableWait } from './stoppableWait.ts'
import type { OutboxEntry, SpooledJob, StoredOutcome } from './spoolLayout.ts'

/** Where a worker's outcomes and status go (the printer's MQTT link). */
export interface OutcomeSink {
  /** Publishes an outcome stored in the outbox; the sink clears it from the outbox once the broker has it. */
  deliver(entry: OutboxEntry): void
  /** Publishes an error that is not stored (the spool cannot write), about a job the broker still holds. */
  deliverUnstored(message: JobErrorMessage): void
  publishStatus(report: StatusReport): void
}

export interface PrinterWorkerDeps {
  config: Pick<RelayConfig, 'RELAY_ID' | 'MAX_JOB_BYTES' | 'STATUS_WAIT_MS' | 'PRINTER_TIMEOUT_MS' | 'PRINTER_CONNECT_TIMEOUT_MS' | 'PRINTER_IDLE_CLOSE_MS' | 'RETRY_MIN_MS' | 'RETRY_MAX_MS' | 'JOB_MAX_AGE' | 'ASCII_STATUS_PRINTERS' | 'MAX_QUEUED_JOBS' | 'MAX_QUEUED_BYTES' | 'TICKET_SETTLE_MS'>
  printer: PrinterAddress
  logger: Logger
  spool: JobSpool
  sink: OutcomeSink
  /** The broker's time, by which `expiresAt` is judged. */
  brokerClock: BrokerClock
  /** The relay's clocks and timers (default: the system's). */
  clock?: Clock
  /** How jobs reach the printer (default: a kept TCP connection, printerConnection.ts); tests give a scripted one. */
  channel?: PrinterChannel
}

/** A job at the head of the queue, while the worker tries to print it. */
interface PrintRun extends JobProgress {
  job: SpooledJob
  piecesPerCopy: Buffer[]
  ticketsPerCopy: number
  /** What this series of failures has reported (a code, or a fault condition). */
  outage: string | undefined
  backoff: Backoff
}

export class PrinterWorker {
  private readonly deps: PrinterWorkerDeps
  private readonly clock: Clock
  private readonly phases: JobPhases
  private readonly channel: PrinterChannel
  /** The printer, and the form its status bytes come in (ASCII_STATUS_PRINTERS). */
  private readonly target: StatusTarget
  private readonly queue: PrinterQueue
  private readonly intake: JobIntake
  private running: Promise<void> | undefined
  private stopped = true
  /** The current wait (backoff, broker time, spool), which stop() ends. */
  private readonly wait: StoppableWait
  private readonly status: PrinterStatus
  /** Learned from the printer: once it has sent a status byte, its silence means trouble, not "status off". */
  private reportsStatus = false

  constructor (deps: PrinterWorkerDeps) {
    this.deps = deps
    this.clock = deps.clock ?? systemClock
    this.wait = new StoppableWait(this.clock)
    this.status = new PrinterStatus({ logger: deps.logger, storageProblem: () => deps.spool.problem, queued: () => this.queue.length, clock: this.clock, publish: (report) => deps.sink.publishStatus(report) })
    this.queue = new PrinterQueue({ onChange: () => this.status.queueChanged() })
    this.target = { host: deps.printer.host, port: deps.printer.port, statusEncoding: statusEncodingOf(deps.config, deps.printer.id) }
    this.channel = deps.channel ?? new PrinterConnection({ target: this.target, idleCloseMs: deps.config.PRINTER_IDLE_CLOSE_MS, logger: deps.logger, clock: this.clock })
    this.phases = new JobPhases({
      printerId: deps.printer.id,
      spool: deps.spool,
      logger: deps.logger,
      deliver: (entry) => deps.sink.deliver(entry),
      stopped: () => this.stopped,
      waitForSpool: () => this.waitForSpool()
    })
    this.intake = new JobIntake({
      ...deps,
      phases: this.phases,
      queue: this.queue,
      clock: this.clock,
      errorMessage: (jobId, code, message) => this.errorMessage(jobId, code, message),
      deliverUnstored: (message) => deps.sink.deliverUnstored(message),
      idle: () => this.running === undefined && !this.stopped && this.status.printerOnline,
      onQueued: () => this.kick(),
      // The job the worker waits on (backoff, a printer in fault) was cancelled: it moves on at once.
      onCancelled: (head) => { if (head) this.wait.wake() }
    })
  }

  get printerId (): string {
    return this.deps.printer.id
  }

  get pending (): number {
    return this.queue.length
  }

  /** Bytes of data waiting or printing. */
  get pendingBytes (): number {
    return this.queue.waitingBytes
  }

  currentState (): StatusReport {
    return this.status.current()
  }

  /** The spool stopped or started being able to write: the status says so. */
  storageChanged (): void {
    this.status.announce()
  }

  /**
   * Resumes the spooled jobs (a job that was printing when the relay stopped is reported `UNCERTAIN`),
   * checks that the printer can be reached so the first status announced is true, then serves the queue.
   */
  async start (): Promise<void> {
    const { printer, config, spool, logger } = this.deps
    for (const { job, size } of await spool.unfinished(printer.id)) {
      if (decide({ event: 'resumed', phase: job.phase }).action === 'enqueue') {
        this.queue.push(job, size)
        continue
      }
      this.phases.resumedPrinting(job)
      logger.warn({ jobId: job.id }, 'the relay stopped while this job was printing: reporting UNCERTAIN, not reprinting')
      await this.finishWithError(job, 'UNCERTAIN', `the relay stopped while job ${job.id} was being sent to printer ${printer.id} (${job.copiesDone} of ${job.copies} copies confirmed); it may or may not have printed, so it is not resent`)
    }
    if (this.queue.length > 0) logger.info({ queued: this.queue.length, bytes: this.queue.waitingBytes }, 'resuming spooled jobs')
    this.stopped = false
    const reason = await this.channel.checkReachable(config.PRINTER_CONNECT_TIMEOUT_MS)
    if (reason === null) this.status.set('online')
    else this.status.set('unreachable', `${printer.host}:${printer.port}: ${reason}`)
    this.kick()
  }

  /** Stops after the current attempt; unfinished jobs stay in the spool. */
  async stop (): Promise<void> {
    this.stopped = true
    this.status.stop()
    this.wait.wake()
    await this.running
    // A head job still marked `printing` and not sent was marked ahead (with the previous outcome, or on arrival).
    const head = this.queue.head
    if (head !== undefined) await this.phases.unmarkUnsent(head.job)
    await this.channel.stop()
  }

  /**
   * Takes a payload from `printers/<id>/jobs` (jobIntake.ts). Resolves once the job is safe (durably spooled, or
   * its answer durably in the outbox): only then may the broker be acknowledged. Never waits for the printer.
   * Rejects with `RELAY_DISK_FULL` when the spool cannot write: the job is not taken, and its client is told.
   */
  accept (payload: Buffer): Promise<void> {
    return this.intake.accept(payload)
  }

  /** Tells a job's client that the relay does not take it now, its spool unable to write (jobIntake.ts). */
  withheld (payload: Buffer): void {
    this.intake.withheld(payload)
  }

  /** A job delivered as a retained message: never printed from there (jobIntake.ts). Resolves once answered. */
  refuseRetained (payload: Buffer): Promise<void> {
    return this.intake.refuseRetained(payload)
  }

  /** Takes a payload from `printers/<id>/cancel` (jobIntake.ts); resolves once its effect is on disk. */
  cancel (payload: Buffer): Promise<void> {
    return this.intake.cancel(payload)
  }

  private kick (): void {
    if (this.running !== undefined || this.stopped || this.queue.length === 0) return
    this.running = this.drain().finally(() => {
      this.running = undefined
      this.kick()
    })
  }

  private async drain (): Promise<void> {
    while (!this.stopped && this.queue.length > 0) {
      const entry = this.queue.head as QueueEntry
      let finished: boolean
      try {
        finished = await this.printWithRetries(entry.job)
      } catch (error) {
        // The spool failed (disk full, ...): keep the job and try again once it can write, rather than lose it.
        this.deps.logger.error({ err: error, jobId: entry.job.id }, 'could not record a job\'s progress; retrying')
        await this.waitForSpool()
        continue
      }
      if (finished) this.queue.remove(entry.job)
    }
  }

  /**
   * Prints one job, retrying while the printer cannot take it. True once the job is finished (printed,
   * or its final error reported); false when the worker stopped first and the job is still to do.
   */
  private async printWithRetries (job: SpooledJob): Promise<boolean> {
    const bytes = await this.phases.bytesOf(job)
    if (bytes === undefined) return true // cancelled
    const { pieces: piecesPerCopy, tickets: ticketsPerCopy } = splitTickets(bytes)
    const { RETRY_MIN_MS: minMs, RETRY_MAX_MS: maxMs } = this.deps.config
    const run: PrintRun = { job, piecesPerCopy, ticketsPerCopy, outage: undefined, backoff: new Backoff({ minMs, maxMs }), acks: 0, written: 0, lastReport: undefined, startedAt: this.clock.monotonic() }
    while (!this.stopped) {
      const brokerTimeSettled = this.canJudge(job)
      const expired = brokerTimeSettled ? this.expiry(job) : undefined
      const turn = decide({ event: 'turn', phase: job.phase, cancelled: this.phases.isCancelled(job), brokerTimeSettled, expired })
      if (turn.action === 'drop-cancelled') return true
      if (turn.action === 'wait-for-broker-time') {
        await this.untilBrokerTime()
        continue
      }
      if (turn.action === 'fail') {
        this.deps.logger.warn({ jobId: job.id }, 'job expired before it printed')
        await this.finishWithError(job, 'JOB_EXPIRED', expired ?? 'the job expired')
        return true
      }
      const attempt = await this.attempt(run)
      const decision = decide({ event: 'attempted', phase: job.phase, outcome: attempt.outcome, acks: attempt.report.acks, outage: run.outage })
      if (await this.carryOut(decision, run, attempt)) return true
    }
    return false
  }

  /** One attempt at the copies still to print. */
  private async attempt (run: PrintRun): Promise<AttemptResult> {
    const { job, piecesPerCopy, ticketsPerCopy } = run
    const copies = job.copies - job.copiesDone
    const pieces = copies === 1 ? piecesPerCopy : Array.from({ length: copies }, () => piecesPerCopy).flat()
    const attempt = await this.channel.print(pieces, ticketsPerCopy * copies, this.timeouts(), {
      beforeWrite: () => this.phases.beforeSend(job),
      expectStatus: this.reportsStatus
    })
    if (attempt.report.statusBytes.length > 0) this.reportsStatus = true
    run.acks += attempt.report.acks
    run.written += attempt.bytesWritten
    run.lastReport = attempt.report
    return attempt
  }

  /** Does what `decision` says after an attempt; true once the job is finished. */
  private async carryOut (decision: Decision, run: PrintRun, attempt: AttemptResult): Promise<boolean> {
    const { logger, printer } = this.deps
    const { job, ticketsPerCopy } = run
    switch (decision.action) {
      case 'succeed': {
        this.status.set('online')
        const result = resultMessage(printer.id, job, decision.status, run, ticketsPerCopy, this.clock.monotonic() - run.startedAt, new Date(this.clock.now()))
        await this.phases.finish(job, { kind: 'result', message: result }, this.markNext())
        logger.info({ jobId: job.id, status: result.status, bytes: result.bytes, acks: run.acks, durationMs: result.durationMs }, 'job done')
        return true
      }
      case 'fail': {
        // The printer took the bytes and then went silent or dropped the connection: it may have printed.
        // Reprinting could print twice, so the job ends here and the client is told.
        const reason = 'reason' in attempt.outcome ? attempt.outcome.reason : attempt.outcome.kind === 'local' ? attempt.outcome.error.message : attempt.outcome.kind
        this.status.set('online')
        logger.warn({ jobId: job.id, code: decision.code, acks: run.acks, reason }, 'job outcome unknown')
        await this.finishWithError(job, decision.code, `printer ${printer.id}: ${reason} after ${run.acks} of ${ticketsPerCopy * job.copies} ticket(s) were acknowledged; it may or may not have printed the rest, so it is not resent`)
        return true
      }
      case 'retry':
        await this.phases.requeue(job, attempt.report.acks, ticketsPerCopy)
        await this.reportUnreachable(decision, run, attempt)
        await this.wait.sleep(run.backoff.next())
        return false
      case 'await-ready':
        await this.phases.requeue(job, attempt.report.acks, ticketsPerCopy)
        await this.reportFault(decision, run, attempt)
        await this.untilReady(run)
        return false
      case 'drop-cancelled':
        return true
      case 'abort':
        throw decision.error
      default:
        throw new Error(`no attempt ends in ${decision.action}`)
    }
  }

  private async reportUnreachable (decision: Extract<Decision, { action: 'retry' }>, run: PrintRun, attempt: AttemptResult): Promise<void> {
    const { printer, logger } = this.deps
    const reason = 'reason' in attempt.outcome ? attempt.outcome.reason : ''
    const where = `${printer.host}:${printer.port}`
    this.status.set('unreachable', `${where}: ${reason}`)
    run.outage = decision.outage
    if (!decision.report) return
    await this.answerError(run.job.id, decision.code, `printer ${printer.id} (${where}): ${reason}; the job is kept and retried until the printer is back`)
    logger.warn({ jobId: run.job.id, code: decision.code, reason }, 'printer unreachable; job kept')
  }

  private async reportFault (decision: Extract<Decision, { action: 'await-ready' }>, run: PrintRun, attempt: AttemptResult): Promise<void> {
    const outcome = attempt.outcome
    if (outcome.kind !== 'fault' && outcome.kind !== 'foreign') throw new Error(`a ${outcome.kind} attempt is no fault`)
    const fault = describeFault(this.deps.printer, this.target.statusEncoding, outcome)
    this.status.set('error', fault.detail)
    run.outage = decision.outage
    if (!decision.report) return
    await this.answerError(run.job.id, decision.code, `${fault.message}; ${run.acks} ticket(s) printed so far; the job is kept and resumed when the printer is ready`)
    this.deps.logger.warn({ jobId: run.job.id, condition: decision.outage, acks: run.acks, ...(outcome.kind === 'foreign' ? { bytes: hexDump(outcome.bytes, 32) } : {}) }, 'printer fault; job kept')
  }

  /** A printer in fault answers <S1> only once it is ready again: the job is resent only then (or once expired). */
  private async untilReady (run: PrintRun): Promise<void> {
    while (!this.stopped && !this.phases.isCancelled(run.job) && this.expiry(run.job) === undefined && !(await this.channel.probeReady(this.timeouts()))) {
      await this.wait.sleep(run.backoff.next())
    }
    run.backoff.reset()
  }

  /**
   * The reason a job must not print any more, or undefined while it may: `expiresAt` passed by the broker's
   * clock, or the job waited JOB_MAX_AGE on the spool's uptime clock (monotonic, kept across restarts).
   */
  private expiry (job: SpooledJob): string | undefined {
    const { brokerClock, config, spool } = this.deps
    return expiryOf(job, { brokerNow: () => brokerClock.now(), brokerTimeKnown: brokerClock.known, uptimeMs: spool.uptimeMs() }, config.JOB_MAX_AGE)
  }

  /** Whether a job's expiry can be judged yet: one with `expiresAt` waits (a few seconds at start) for the broker's time. */
  private canJudge (job: SpooledJob): boolean {
    return job.expiresAt === undefined || this.deps.brokerClock.settled
  }

  /**
   * The job after the head, marked `printing` when it is about to go to the printer that has just printed:
   * one sync then records both the outcome and the next job's mark.
   */
  private markNext (): SpooledJob | undefined {
    const next = this.queue.second
    if (next === undefined || this.stopped || next.phase !== 'queued' || !this.canJudge(next) || this.expiry(next) !== undefined) return undefined
    this.phases.markAhead(next)
    return next
  }

  private errorMessage (jobId: string | undefined, code: ErrorCode, message: string, retryable?: boolean): JobErrorMessage {
    return errorMessage(this.deps.printer.id, jobId, code, message, new Date(this.clock.now()), retryable)
  }

  /** A job's last word: not retryable, remembered for duplicates. */
  private finishWithError (job: SpooledJob, code: ErrorCode, message: string): Promise<void> {
    return this.phases.finish(job, { kind: 'error', message: this.errorMessage(job.id, code, message, false) })
  }

  /** An error that finishes no job (a transient error), stored then published. */
  private answerError (jobId: string | undefined, code: ErrorCode, message: string): Promise<void> {
    const outcome: StoredOutcome = { kind: 'error', message: this.errorMessage(jobId, code, message) }
    return this.phases.answer(outcome)
  }

  private timeouts (): PrintTimeouts {
    const { config } = this.deps
    return { connectMs: config.PRINTER_CONNECT_TIMEOUT_MS, statusWaitMs: config.STATUS_WAIT_MS, printerMs: config.PRINTER_TIMEOUT_MS, ticketSettleMs: config.TICKET_SETTLE_MS }
  }

  /** Waits for the broker's time (or the end of the wait for it), or for stop(). */
  private untilBrokerTime (): Promise<void> {
    return this.wait.until(this.deps.brokerClock.ready())
  }

  /** Until the spool can write again (or the worker stops); after another kind of failure, RETRY_MAX_MS. */
  private waitForSpool (): Promise<void> {
    const { spool, config } = this.deps
    if (spool.problem === undefined) return this.wait.sleep(config.RETRY_MAX_MS)
    return this.wait.until(spool.writable())
  }
}
