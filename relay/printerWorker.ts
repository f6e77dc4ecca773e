/**
 * One printer's queue: jobs print one at a time, in the order the broker delivered them, independently
 * of every other printer. A job is acknowledged to the broker only once it is in the durable spool. A job
 * that cannot print yet (printer unreachable, out of paper, jammed) stays at the head of the queue and is
 * retried with capped exponential backoff; its error is reported once per outage, and the printer's
 * retained status follows what the printer says. What to do with a job at each step is decided by
 * jobDecision.ts; its phase changes on disk, and "never print twice", are jobPhases.ts's.
 *
 * Limits: at most MAX_QUEUED_JOBS jobs and MAX_QUEUED_BYTES bytes of data wait per printer; a job over them is
 * answered `QUEUE_FULL` and not taken. The queue in memory holds no job's bytes: they are read from the spool
 * when the job's turn comes. While the spool cannot write (a full disk), the printer's status is `error`, a job
 * arriving is not taken (no PUBACK: the broker keeps it) and its client hears `RELAY_DISK_FULL`, and nothing
 * prints whose `printing` mark is not on disk, nor is any outcome published that is not: both wait for the disk.
 */
import { randomUUID } from 'node:crypto'
import { splitTickets } from '../boca/fgl.ts'
import { hexDump } from '../boca/status.ts'
import { parseJob, peekJobId, PrintwireError, type ErrorCode, type JobErrorMessage, type PrinterState } from '../protocol/index.ts'
import type { Logger } from '../runtime/logger.ts'
import { Backoff } from './backoff.ts'
import type { BrokerClock } from './brokerClock.ts'
import { sleep, systemClock, type Clock } from './clock.ts'
import { statusEncodingOf, type PrinterAddress, type RelayConfig } from './config.ts'
import { decide, type Decision } from './jobDecision.ts'
import { describeFault, errorMessage, resultMessage, type JobProgress } from './jobMessages.ts'
import { JobPhases } from './jobPhases.ts'
import type { AttemptResult, PrinterPort, PrintTimeouts, StatusTarget } from './printAttempt.ts'
import { PrinterConnection } from './printerConnection.ts'
import type { JobSpool } from './spool.ts'
import type { OutboxEntry, SpooledJob, StoredOutcome } from './spoolLayout.ts'

/** Where a worker's outcomes and status go (the printer's MQTT link). */
export interface OutcomeSink {
  /** Publishes an outcome stored in the outbox; the sink clears it from the outbox once the broker has it. */
  deliver(entry: OutboxEntry): void
  /** Publishes an error that is not stored (the spool cannot write), about a job the broker still holds. */
  announce(message: JobErrorMessage): void
  publishStatus(state: PrinterState, detail?: string): void
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
  port?: PrinterPort
}

/** A job waiting or printing: its bytes stay in the spool until its turn. */
interface QueueEntry {
  job: SpooledJob
  /** Bytes of data (one copy), counted against MAX_QUEUED_BYTES. */
  size: number
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
  private readonly port: PrinterPort
  /** The printer, and the form its status bytes come in (ASCII_STATUS_PRINTERS). */
  private readonly target: StatusTarget
  private readonly queue: QueueEntry[] = []
  /** Ids of the jobs in the queue: a duplicate of one of them is not queued twice. */
  private readonly queuedIds = new Set<string>()
  /** Bytes of data of the jobs in the queue, and of those being taken in. */
  private queuedBytes = 0
  /** Jobs being taken in (written to the spool), counted against MAX_QUEUED_JOBS. */
  private arriving = 0
  /** A job taken in to go to the idle printer at once is being written (see `take`). */
  private arrivingStraight = false
  private running: Promise<void> | undefined
  private stopped = true
  /** Ends the current wait (backoff, broker time, spool) early: set while one runs. */
  private wake: (() => void) | undefined
  /** What the printer says; `currentState()` puts the relay's own trouble (its disk) before it. */
  private state: { state: PrinterState, detail?: string } = { state: 'online' }
  /** The state last published. */
  private announced: { state: PrinterState, detail?: string } = { state: 'online' }
  /** Learned from the printer: once it has sent a status byte, its silence means trouble, not "status off". */
  private reportsStatus = false

  constructor (deps: PrinterWorkerDeps) {
    this.deps = deps
    this.clock = deps.clock ?? systemClock
    this.target = { host: deps.printer.host, port: deps.printer.port, statusEncoding: statusEncodingOf(deps.config, deps.printer.id) }
    this.port = deps.port ?? new PrinterConnection({ target: this.target, idleCloseMs: deps.config.PRINTER_IDLE_CLOSE_MS, logger: deps.logger, clock: this.clock })
    this.phases = new JobPhases({
      printerId: deps.printer.id,
      spool: deps.spool,
      logger: deps.logger,
      deliver: (entry) => deps.sink.deliver(entry),
      stopped: () => this.stopped,
      waitForSpool: () => this.waitForSpool()
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
    return this.queuedBytes
  }

  currentState (): { state: PrinterState, detail?: string } {
    const problem = this.deps.spool.problem
    return problem === undefined ? this.state : { state: 'error', detail: problem }
  }

  /** The spool stopped or started being able to write: the status says so. */
  storageChanged (): void {
    this.announce()
  }

  /**
   * Resumes the spooled jobs (a job that was printing when the relay stopped is reported `UNCERTAIN`),
   * checks that the printer can be reached so the first status announced is true, then serves the queue.
   */
  async start (): Promise<void> {
    const { printer, config, spool, logger } = this.deps
    for (const { job, size } of await spool.unfinished(printer.id)) {
      if (decide({ event: 'resumed', phase: job.phase }).action === 'enqueue') {
        this.enqueue(job, size)
        continue
      }
      this.phases.resumedPrinting(job)
      logger.warn({ jobId: job.id }, 'the relay stopped while this job was printing: reporting UNCERTAIN, not reprinting')
      await this.finishWithError(job, 'UNCERTAIN', `the relay stopped while job ${job.id} was being sent to printer ${printer.id} (${job.copiesDone} of ${job.copies} copies confirmed); it may or may not have printed, so it is not resent`)
    }
    if (this.queue.length > 0) logger.info({ queued: this.queue.length, bytes: this.queuedBytes }, 'resuming spooled jobs')
    this.stopped = false
    const reason = await this.port.checkReachable(config.PRINTER_CONNECT_TIMEOUT_MS)
    if (reason === null) this.setState('online')
    else this.setState('unreachable', `${printer.host}:${printer.port}: ${reason}`)
    this.kick()
  }

  /** Stops after the current attempt; unfinished jobs stay in the spool. */
  async stop (): Promise<void> {
    this.stopped = true
    this.wake?.()
    await this.running
    // A head job still marked `printing` and not sent was marked ahead (with the previous outcome, or on arrival).
    const head = this.queue[0]
    if (head !== undefined) await this.phases.unmarkUnsent(head.job)
    await this.port.stop()
  }

  /**
   * Takes a payload from `printers/<id>/jobs`. Resolves once the job is safe (durably spooled, or its
   * answer durably in the outbox): only then may the broker be acknowledged. Never waits for the printer.
   * Rejects with `RELAY_DISK_FULL` when the spool cannot write: the job is not taken, and its client is told.
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
    this.deps.sink.announce(this.errorMessage(jobId, 'RELAY_DISK_FULL', `relay ${config.RELAY_ID} cannot take ${jobId === undefined ? 'this job' : `job ${jobId}`} for printer ${printer.id} now (${problem}): it stays with the broker, which delivers it again once the relay can write`))
  }

  /**
   * A job delivered as a retained message: a new relay session gets it again each time, so it is never printed
   * from there. Answered with its original outcome if its id has one here (the job printed when it was published
   * live), ignored while it is queued, and otherwise an INVALID_JOB error about the printer, not the job (another
   * relay may have printed it). Resolves once the answer is safe.
   */
  async refuseRetained (payload: Buffer): Promise<void> {
    const { logger } = this.deps
    const jobId = peekJobId(payload)
    if (jobId !== undefined && await this.answeredAsKnown(jobId, true, 'retained copy of a finished job: answered with its original outcome')) return
    // Without the job's id: the job itself may have printed where it was first delivered live (Mosquitto forwards
    // a retained publish to the subscribers of the moment), and its publisher then has that answer.
    logger.warn({ jobId, bytes: payload.length }, 'retained job not printed')
    const which = jobId === undefined ? 'a retained job' : `a retained copy of job ${jobId}`
    await this.report(undefined, 'INVALID_JOB', `${which} was delivered from the broker's retained messages and is not printed from there (every new relay session would print it again); clear it with an empty retained publish on the jobs topic, and publish jobs without the retain flag`)
  }

  /**
   * A job id this printer already knows: ignored while it is queued, answered with its stored outcome once done.
   * True when the job needs nothing more.
   */
  private async answeredAsKnown (jobId: string, retained: boolean, answeredLog: string): Promise<boolean> {
    const queued = this.queuedIds.has(jobId)
    const stored = queued ? undefined : await this.phases.storedOutcome(jobId)
    const decision = decide({ event: 'arrived', known: queued ? 'queued' : stored === undefined ? undefined : 'done', retained })
    if (decision.action === 'ignore') {
      if (!retained) this.deps.logger.info({ jobId }, 'duplicate of a queued job: ignored')
      return true
    }
    if (decision.action !== 'answer-stored' || stored === undefined) return false
    this.deps.logger.info({ jobId, outcome: stored.kind }, answeredLog)
    await this.phases.report(stored)
    return true
  }

  private async take (payload: Buffer): Promise<void> {
    const { logger, config } = this.deps
    let parsed
    try {
      parsed = parseJob(payload, config.MAX_JOB_BYTES)
    } catch (error) {
      if (!(error instanceof PrintwireError)) throw error
      const jobId = peekJobId(payload)
      logger.warn({ jobId, code: error.code, bytes: payload.length, reason: error.message }, 'job refused')
      await this.report(jobId, error.code, error.message)
      return
    }
    if (parsed.id !== undefined && await this.answeredAsKnown(parsed.id, false, 'duplicate of a finished job: answered with its original outcome')) return
    const size = parsed.data.length
    if (this.queue.length + this.arriving >= config.MAX_QUEUED_JOBS || this.queuedBytes + size > config.MAX_QUEUED_BYTES) {
      await this.refuseQueueFull(parsed.id, size)
      return
    }
    // A job that goes to an idle, working printer at once is marked `printing` in the same sync that takes
    // it in, rather than in a second one just before its first byte. (A crash in between then reports it
    // UNCERTAIN though nothing was sent: never a duplicate print.)
    // Decided and claimed in one step: jobs arriving together must not all count as the one going straight.
    // Not a job that must first wait for the broker's time (expiresAt, at start): its mark would stand for seconds.
    const straight = this.queue.length === 0 && this.running === undefined && !this.stopped && this.state.state === 'online' && !this.arrivingStraight &&
      (parsed.expiresAt === undefined || this.deps.brokerClock.settled)
    if (straight) this.arrivingStraight = true
    // Counted before the write: jobs arriving together must not all fit under the limits.
    this.arriving++
    this.queuedBytes += size
    let job: SpooledJob
    try {
      job = await this.phases.take({
        id: parsed.id ?? `relay-${randomUUID()}`,
        printerId: this.deps.printer.id,
        copies: parsed.copies,
        receivedAt: this.clock.now(),
        ...(parsed.expiresAt === undefined ? {} : { expiresAt: parsed.expiresAt })
      }, parsed.data, straight ? 'printing' : 'queued')
    } finally {
      this.queuedBytes -= size
      this.arriving--
      if (straight) this.arrivingStraight = false
    }
    this.enqueue(job, size)
    logger.info({ jobId: job.id, bytes: size, copies: job.copies, queued: this.queue.length, queuedBytes: this.queuedBytes }, 'job spooled')
    this.kick()
  }

  private refuseQueueFull (jobId: string | undefined, size: number): Promise<void> {
    const { logger, config, printer } = this.deps
    const waiting = this.queue.length + this.arriving
    logger.warn({ jobId, bytes: size, queued: waiting, queuedBytes: this.queuedBytes }, 'job refused: the printer\'s queue is full')
    return this.report(jobId, 'QUEUE_FULL', `printer ${printer.id} already has ${waiting} job(s) of ${this.queuedBytes} bytes waiting in relay ${config.RELAY_ID} (limits: MAX_QUEUED_JOBS ${config.MAX_QUEUED_JOBS}, MAX_QUEUED_BYTES ${config.MAX_QUEUED_BYTES}); this job of ${size} bytes is not taken: send it again once the printer has caught up`)
  }

  private enqueue (job: SpooledJob, size: number): void {
    this.queue.push({ job, size })
    this.queuedIds.add(job.id)
    this.queuedBytes += size
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
      const entry = this.queue[0] as QueueEntry
      let finished: boolean
      try {
        finished = await this.printWithRetries(entry.job)
      } catch (error) {
        // The spool failed (disk full, ...): keep the job and try again once it can write, rather than lose it.
        this.deps.logger.error({ err: error, jobId: entry.job.id }, 'could not record a job\'s progress; retrying')
        await this.waitForSpool()
        continue
      }
      if (finished) {
        this.queue.shift()
        this.queuedIds.delete(entry.job.id)
        this.queuedBytes -= entry.size
      }
    }
  }

  /**
   * Prints one job, retrying while the printer cannot take it. True once the job is finished (printed,
   * or its final error reported); false when the worker stopped first and the job is still to do.
   */
  private async printWithRetries (job: SpooledJob): Promise<boolean> {
    const { pieces: piecesPerCopy, tickets: ticketsPerCopy } = splitTickets(await this.deps.spool.jobBytes(job))
    const { RETRY_MIN_MS: minMs, RETRY_MAX_MS: maxMs } = this.deps.config
    const run: PrintRun = { job, piecesPerCopy, ticketsPerCopy, outage: undefined, backoff: new Backoff({ minMs, maxMs }), acks: 0, written: 0, lastReport: undefined, startedAt: this.clock.monotonic() }
    while (!this.stopped) {
      const brokerTimeSettled = this.canJudge(job)
      const expired = brokerTimeSettled ? this.expiry(job) : undefined
      const turn = decide({ event: 'turn', phase: job.phase, brokerTimeSettled, expired })
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
    const attempt = await this.port.print(pieces, ticketsPerCopy * copies, this.timeouts(), {
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
        this.setState('online')
        const result = resultMessage(printer.id, job, decision.status, run, ticketsPerCopy, this.clock.monotonic() - run.startedAt, new Date(this.clock.now()))
        await this.phases.finish(job, { kind: 'result', message: result }, this.markNext())
        logger.info({ jobId: job.id, status: result.status, bytes: result.bytes, acks: run.acks, durationMs: result.durationMs }, 'job done')
        return true
      }
      case 'fail': {
        // The printer took the bytes and then went silent or dropped the connection: it may have printed.
        // Reprinting could print twice, so the job ends here and the client is told.
        const reason = 'reason' in attempt.outcome ? attempt.outcome.reason : attempt.outcome.kind === 'local' ? attempt.outcome.error.message : attempt.outcome.kind
        this.setState('online')
        logger.warn({ jobId: job.id, code: decision.code, acks: run.acks, reason }, 'job outcome unknown')
        await this.finishWithError(job, decision.code, `printer ${printer.id}: ${reason} after ${run.acks} of ${ticketsPerCopy * job.copies} ticket(s) were acknowledged; it may or may not have printed the rest, so it is not resent`)
        return true
      }
      case 'retry':
        await this.phases.requeue(job, attempt.report.acks, ticketsPerCopy)
        await this.reportUnreachable(decision, run, attempt)
        await this.sleep(run.backoff.next())
        return false
      case 'await-ready':
        await this.phases.requeue(job, attempt.report.acks, ticketsPerCopy)
        await this.reportFault(decision, run, attempt)
        await this.untilReady(run)
        return false
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
    this.setState('unreachable', `${where}: ${reason}`)
    run.outage = decision.outage
    if (!decision.report) return
    await this.report(run.job.id, decision.code, `printer ${printer.id} (${where}): ${reason}; the job is kept and retried until the printer is back`)
    logger.warn({ jobId: run.job.id, code: decision.code, reason }, 'printer unreachable; job kept')
  }

  private async reportFault (decision: Extract<Decision, { action: 'await-ready' }>, run: PrintRun, attempt: AttemptResult): Promise<void> {
    const outcome = attempt.outcome
    if (outcome.kind !== 'fault' && outcome.kind !== 'foreign') throw new Error(`a ${outcome.kind} attempt is no fault`)
    const fault = describeFault(this.deps.printer, this.target.statusEncoding, outcome)
    this.setState('error', fault.detail)
    run.outage = decision.outage
    if (!decision.report) return
    await this.report(run.job.id, decision.code, `${fault.message}; ${run.acks} ticket(s) printed so far; the job is kept and resumed when the printer is ready`)
    this.deps.logger.warn({ jobId: run.job.id, condition: decision.outage, acks: run.acks, ...(outcome.kind === 'foreign' ? { bytes: hexDump(outcome.bytes, 32) } : {}) }, 'printer fault; job kept')
  }

  /** A printer in fault answers <S1> only once it is ready again: the job is resent only then (or once expired). */
  private async untilReady (run: PrintRun): Promise<void> {
    while (!this.stopped && this.expiry(run.job) === undefined && !(await this.port.probeReady(this.timeouts()))) {
      await this.sleep(run.backoff.next())
    }
    run.backoff.reset()
  }

  /**
   * The reason a job must not print any more, or undefined while it may: `expiresAt` passed by the broker's
   * clock, or the job waited JOB_MAX_AGE on the spool's uptime clock (monotonic, kept across restarts).
   */
  private expiry (job: SpooledJob): string | undefined {
    const { brokerClock, config, spool } = this.deps
    if (job.expiresAt !== undefined && brokerClock.now() > job.expiresAt) {
      return `the job expired at ${new Date(job.expiresAt).toISOString()} (by the broker's clock${brokerClock.known ? '' : ', which the relay has not heard yet: by its own'}) before the printer could print it`
    }
    const maxAgeMs = config.JOB_MAX_AGE * 1000
    if (maxAgeMs > 0 && spool.uptimeMs() - job.spooledAtUptimeMs > maxAgeMs) return `the job waited longer than JOB_MAX_AGE (${config.JOB_MAX_AGE} s) for the printer`
    return undefined
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
    const next = this.queue[1]?.job
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

  /** An error that finishes no job (a refusal, a transient error), stored then published. */
  private report (jobId: string | undefined, code: ErrorCode, message: string): Promise<void> {
    const outcome: StoredOutcome = { kind: 'error', message: this.errorMessage(jobId, code, message) }
    return this.phases.report(outcome)
  }

  private timeouts (): PrintTimeouts {
    const { config } = this.deps
    return { connectMs: config.PRINTER_CONNECT_TIMEOUT_MS, statusWaitMs: config.STATUS_WAIT_MS, printerMs: config.PRINTER_TIMEOUT_MS, ticketSettleMs: config.TICKET_SETTLE_MS }
  }

  private setState (state: PrinterState, detail?: string): void {
    if (this.state.state === state && this.state.detail === detail) return
    this.state = detail === undefined ? { state } : { state, detail }
    this.deps.logger.info({ state, detail }, 'printer state')
    this.announce()
  }

  /** Publishes the status when it changed. */
  private announce (): void {
    const { state, detail } = this.currentState()
    if (this.announced.state === state && this.announced.detail === detail) return
    this.announced = detail === undefined ? { state } : { state, detail }
    this.deps.sink.publishStatus(state, detail)
  }

  /** Waits for the broker's time (or the end of the wait for it), or for stop(). */
  private untilBrokerTime (): Promise<void> {
    return this.waitFor(this.deps.brokerClock.ready())
  }

  /** Until the spool can write again (or the worker stops); after another kind of failure, RETRY_MAX_MS. */
  private waitForSpool (): Promise<void> {
    const { spool, config } = this.deps
    if (spool.problem === undefined) return this.sleep(config.RETRY_MAX_MS)
    return this.waitFor(spool.writable())
  }

  private sleep (ms: number): Promise<void> {
    const wait = sleep(this.clock, ms)
    return this.waitFor(wait.done, wait.cancel)
  }

  /** Waits for `event`, or for stop() (which calls `wake`). */
  private waitFor (event: Promise<void>, cancel: () => void = () => {}): Promise<void> {
    return new Promise((resolve) => {
      const done = (): void => {
        if (this.wake === done) this.wake = undefined
        cancel()
        resolve()
      }
      this.wake = done
      void event.then(done)
    })
  }
}
