/**
 * One printer's queue: jobs print one at a time, in the order the broker delivered them, independently
 * of every other printer. A job is acknowledged to the broker only once it is in the durable spool. A job
 * that cannot print yet (printer unreachable, out of paper, jammed) stays at the head of the queue and is
 * retried with capped exponential backoff; its error is reported once per outage, and the printer's
 * retained status follows what the printer says. A job id that already printed is answered with its
 * original outcome, never printed again; a job the relay was printing when it died is `UNCERTAIN`.
 *
 * Limits: at most MAX_QUEUED_JOBS jobs and MAX_QUEUED_BYTES bytes of data wait per printer; a job over them is
 * answered `QUEUE_FULL` and not taken. The queue in memory holds no job's bytes: they are read from the spool
 * when the job's turn comes. While the spool cannot write (a full disk), the printer's status is `error`, a job
 * arriving is not taken (no PUBACK: the broker keeps it) and its client hears `RELAY_DISK_FULL`, and nothing
 * prints whose `printing` mark is not on disk, nor is any outcome published that is not: both wait for the disk.
 */
import { splitTickets } from '../boca/fgl.ts'
import { decodeStatusByte, hexDump } from '../boca/status.ts'
import { randomUUID } from 'node:crypto'
import {
  ERROR_CODES, parseJob, peekJobId, PrintwireError,
  type ErrorCode, type JobErrorMessage, type JobResult, type PrinterReport, type PrinterState
} from '../protocol/index.ts'
import type { Logger } from '../runtime/logger.ts'
import type { BrokerClock } from './brokerClock.ts'
import { systemClock, type Clock } from './clock.ts'
import { statusEncodingOf, type PrinterAddress, type RelayConfig } from './config.ts'
import { checkReachable, probeReady, type AttemptOutcome, type PrintTimeouts, type StatusTarget } from './printerClient.ts'
import { PrinterConnection } from './printerConnection.ts'
import type { JobSpool, OutboxEntry, SpooledJob, StoredOutcome } from './spool.ts'

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
  /** The relay's clocks (default: the system's). */
  clock?: Clock
}

/** A job waiting or printing: its bytes stay in the spool until its turn. */
interface QueueEntry {
  job: SpooledJob
  /** Bytes of data (one copy), counted against MAX_QUEUED_BYTES. */
  size: number
}

export class PrinterWorker {
  private readonly deps: PrinterWorkerDeps
  private readonly queue: QueueEntry[] = []
  /** Ids of the jobs in the queue: a duplicate of one of them is not queued twice. */
  private readonly queuedIds = new Set<string>()
  /** Bytes of data of the jobs in the queue, and of those being taken in. */
  private queuedBytes = 0
  /** Jobs being taken in (written to the spool), counted against MAX_QUEUED_JOBS. */
  private arriving = 0
  private running: Promise<void> | undefined
  private stopped = true
  private wake: (() => void) | undefined
  /** What the printer says; `currentState()` puts the relay's own trouble (its disk) before it. */
  private state: { state: PrinterState, detail?: string } = { state: 'online' }
  /** The state last published. */
  private announced: { state: PrinterState, detail?: string } = { state: 'online' }
  /** Learned from the printer: once it has sent a status byte, its silence means trouble, not "status off". */
  private reportsStatus = false
  /** A job taken in to go to the idle printer at once is being written (see `accept`). */
  private arrivingStraight = false
  private readonly connection: PrinterConnection
  /** The printer, and the form its status bytes come in (ASCII_STATUS_PRINTERS). */
  private readonly target: StatusTarget

  constructor (deps: PrinterWorkerDeps) {
    this.deps = deps
    this.target = { host: deps.printer.host, port: deps.printer.port, statusEncoding: statusEncodingOf(deps.config, deps.printer.id) }
    this.connection = new PrinterConnection({ target: this.target, idleCloseMs: deps.config.PRINTER_IDLE_CLOSE_MS, logger: deps.logger })
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
      if (job.phase === 'printing') {
        logger.warn({ jobId: job.id }, 'the relay stopped while this job was printing: reporting UNCERTAIN, not reprinting')
        await this.finishWithError(job, 'UNCERTAIN', `the relay stopped while job ${job.id} was being sent to printer ${printer.id} (${job.copiesDone} of ${job.copies} copies confirmed); it may or may not have printed, so it is not resent`)
        continue
      }
      this.queue.push({ job, size })
      this.queuedIds.add(job.id)
      this.queuedBytes += size
    }
    if (this.queue.length > 0) logger.info({ queued: this.queue.length, bytes: this.queuedBytes }, 'resuming spooled jobs')
    this.stopped = false
    const reason = await checkReachable(printer, config.PRINTER_CONNECT_TIMEOUT_MS)
    if (reason === null) this.setState('online')
    else this.setState('unreachable', `${printer.host}:${printer.port}: ${reason}`)
    this.kick()
  }

  /** Stops after the current attempt; unfinished jobs stay in the spool. */
  async stop (): Promise<void> {
    this.stopped = true
    this.wake?.()
    await this.running
    // Every attempt ends with its job finished or back to `queued`: a head job still marked `printing` was
    // marked ahead (with the previous job's outcome, or on arrival) and not a byte of it was sent.
    const head = this.queue[0]
    if (head !== undefined && head.job.phase === 'printing') {
      head.job.phase = 'queued'
      await this.deps.spool.update(head.job).catch((error: unknown) => this.deps.logger.warn({ err: error, jobId: head.job.id }, 'could not unmark a job that was not sent'))
    }
    await this.connection.stop()
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
    const { logger, spool, printer } = this.deps
    const jobId = peekJobId(payload)
    if (jobId !== undefined) {
      if (this.queuedIds.has(jobId)) return
      const earlier = await spool.outcomeOf(printer.id, jobId)
      if (earlier !== undefined) {
        logger.info({ jobId, outcome: earlier.kind }, 'retained copy of a finished job: answered with its original outcome')
        await this.report(earlier)
        return
      }
    }
    // Without the job's id: the job itself may have printed where it was first delivered live (Mosquitto forwards
    // a retained publish to the subscribers of the moment), and its publisher then has that answer.
    logger.warn({ jobId, bytes: payload.length }, 'retained job not printed')
    const which = jobId === undefined ? 'a retained job' : `a retained copy of job ${jobId}`
    await this.report({ kind: 'error', message: this.errorMessage(undefined, 'INVALID_JOB', `${which} was delivered from the broker's retained messages and is not printed from there (every new relay session would print it again); clear it with an empty retained publish on the jobs topic, and publish jobs without the retain flag`) })
  }

  private async take (payload: Buffer): Promise<void> {
    const { logger, config, spool, printer } = this.deps
    let parsed
    try {
      parsed = parseJob(payload, config.MAX_JOB_BYTES)
    } catch (error) {
      if (!(error instanceof PrintwireError)) throw error
      const jobId = peekJobId(payload)
      logger.warn({ jobId, code: error.code, bytes: payload.length, reason: error.message }, 'job refused')
      await this.report({ kind: 'error', message: this.errorMessage(jobId, error.code, error.message) })
      return
    }
    if (parsed.id !== undefined) {
      if (this.queuedIds.has(parsed.id)) {
        logger.info({ jobId: parsed.id }, 'duplicate of a queued job: ignored')
        return
      }
      const earlier = await spool.outcomeOf(printer.id, parsed.id)
      if (earlier !== undefined) {
        logger.info({ jobId: parsed.id, outcome: earlier.kind }, 'duplicate of a finished job: answered with its original outcome')
        await this.report(earlier)
        return
      }
    }
    const size = parsed.data.length
    if (this.queue.length + this.arriving >= config.MAX_QUEUED_JOBS || this.queuedBytes + size > config.MAX_QUEUED_BYTES) {
      const waiting = this.queue.length + this.arriving
      logger.warn({ jobId: parsed.id, bytes: size, queued: waiting, queuedBytes: this.queuedBytes }, 'job refused: the printer\'s queue is full')
      await this.report({ kind: 'error', message: this.errorMessage(parsed.id, 'QUEUE_FULL', `printer ${printer.id} already has ${waiting} job(s) of ${this.queuedBytes} bytes waiting in relay ${config.RELAY_ID} (limits: MAX_QUEUED_JOBS ${config.MAX_QUEUED_JOBS}, MAX_QUEUED_BYTES ${config.MAX_QUEUED_BYTES}); this job of ${size} bytes is not taken: send it again once the printer has caught up`) })
      return
    }
    // A job that goes to an idle, working printer at once is marked `printing` in the same sync that takes
    // it in, rather than in a second one just before its first byte. (A crash in between then reports it
    // UNCERTAIN though nothing was sent: never a duplicate print.)
    // Decided and claimed in one step: jobs arriving together must not all count as the one going straight.
    // Not a job that must first wait for the broker's time (expiresAt, at start): its mark would stand for seconds.
    const straightToPrinter = this.queue.length === 0 && this.running === undefined && !this.stopped && this.state.state === 'online' && !this.arrivingStraight &&
      (parsed.expiresAt === undefined || this.deps.brokerClock.settled)
    if (straightToPrinter) this.arrivingStraight = true
    // Counted before the write: jobs arriving together must not all fit under the limits.
    this.arriving++
    this.queuedBytes += size
    let job: SpooledJob
    try {
      job = await spool.add({
        id: parsed.id ?? `relay-${randomUUID()}`,
        printerId: printer.id,
        copies: parsed.copies,
        receivedAt: this.clock.now(),
        ...(parsed.expiresAt === undefined ? {} : { expiresAt: parsed.expiresAt })
      }, parsed.data, straightToPrinter ? 'printing' : 'queued')
    } catch (error) {
      this.queuedBytes -= size
      throw error
    } finally {
      this.arriving--
      if (straightToPrinter) this.arrivingStraight = false
    }
    this.queue.push({ job, size })
    this.queuedIds.add(job.id)
    logger.info({ jobId: job.id, bytes: size, copies: job.copies, queued: this.queue.length, queuedBytes: this.queuedBytes }, 'job spooled')
    this.kick()
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
        finished = await this.printWithRetries(entry)
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

  private get clock (): Clock {
    return this.deps.clock ?? systemClock
  }

  /**
   * The reason a job must not print any more, or undefined while it may: `expiresAt` passed by the broker's
   * clock, or the job waited JOB_MAX_AGE on the spool's uptime clock (monotonic, kept across restarts).
   */
  private expiry (job: SpooledJob): string | undefined {
    if (job.expiresAt !== undefined && this.deps.brokerClock.now() > job.expiresAt) {
      return `the job expired at ${new Date(job.expiresAt).toISOString()} (by the broker's clock${this.deps.brokerClock.known ? '' : ', which the relay has not heard yet: by its own'}) before the printer could print it`
    }
    const maxAgeMs = this.deps.config.JOB_MAX_AGE * 1000
    if (maxAgeMs > 0 && this.deps.spool.uptimeMs() - job.spooledAtUptimeMs > maxAgeMs) return `the job waited longer than JOB_MAX_AGE (${this.deps.config.JOB_MAX_AGE} s) for the printer`
    return undefined
  }

  /** Whether a job's expiry can be judged yet: one with `expiresAt` waits (a few seconds at start) for the broker's time. */
  private canJudge (job: SpooledJob): boolean {
    return job.expiresAt === undefined || this.deps.brokerClock.settled
  }

  /**
   * Prints one job, retrying while the printer cannot take it. True once the job is finished (printed,
   * or its final error reported); false when the worker stopped first and the job is still to do.
   */
  private async printWithRetries ({ job }: QueueEntry): Promise<boolean> {
    const { logger, config, printer, spool } = this.deps
    const bytes = await spool.jobBytes(job)
    const { pieces: piecesPerCopy, tickets: ticketsPerCopy } = splitTickets(bytes)
    let delay = config.RETRY_MIN_MS
    let reportedOutage: string | undefined
    const started = this.clock.monotonic()
    let acks = 0
    let written = 0
    let lastReport: PrinterReport | undefined

    while (!this.stopped) {
      if (!this.canJudge(job)) {
        await this.untilBrokerTime()
        continue
      }
      const expired = this.expiry(job)
      if (expired !== undefined) {
        logger.warn({ jobId: job.id }, 'job expired before it printed')
        await this.finishWithError(job, 'JOB_EXPIRED', expired)
        return true
      }
      const copies = job.copies - job.copiesDone
      const pieces = copies === 1 ? piecesPerCopy : Array.from({ length: copies }, () => piecesPerCopy).flat()
      const attempt = await this.connection.print(pieces, ticketsPerCopy * copies, this.timeouts(), {
        beforeWrite: async () => {
          if (job.phase === 'printing') return // marked ahead, and already on disk
          job.phase = 'printing'
          try {
            await spool.update(job)
          } catch (error) {
            // Not on disk: the next attempt must write the mark again before a byte goes out.
            job.phase = 'queued'
            throw error
          }
        },
        expectStatus: this.reportsStatus
      })
      if (attempt.report.statusBytes.length > 0) this.reportsStatus = true
      acks += attempt.report.acks
      written += attempt.bytesWritten
      lastReport = attempt.report
      const { outcome } = attempt

      if (outcome.kind === 'printed' || outcome.kind === 'sent') {
        this.setState('online')
        const result: JobResult = {
          jobId: job.id,
          printerId: printer.id,
          status: outcome.kind,
          bytes: written,
          durationMs: Math.round(this.clock.monotonic() - started),
          printer: { ...lastReport, acks, expectedAcks: ticketsPerCopy * job.copies },
          at: new Date().toISOString()
        }
        await this.finish(job, { kind: 'result', message: result }, this.markNext())
        logger.info({ jobId: job.id, status: result.status, bytes: result.bytes, acks, durationMs: result.durationMs }, 'job done')
        return true
      }

      if (outcome.kind === 'local') throw outcome.error

      const nothingPrinted = attempt.report.acks === 0 && (outcome.kind === 'unreachable' ||
        ((outcome.kind === 'dropped' || outcome.kind === 'timeout') && outcome.whileWriting))
      if (outcome.kind === 'fault' || outcome.kind === 'foreign' || nothingPrinted) {
        // Nothing more printed than the ACKs counted: the job goes back to the queue's head.
        if (ticketsPerCopy > 0) job.copiesDone += Math.floor(attempt.report.acks / ticketsPerCopy)
        if (job.copiesDone >= job.copies) job.copiesDone = job.copies - 1
        if (job.phase !== 'queued') {
          job.phase = 'queued'
          await spool.update(job)
        }
      }

      if (outcome.kind === 'fault' || outcome.kind === 'foreign') {
        const fault = this.describeFault(outcome)
        this.setState('error', fault.detail)
        if (reportedOutage !== fault.condition) {
          reportedOutage = fault.condition
          await this.report({ kind: 'error', message: this.errorMessage(job.id, 'PRINTER_ERROR', `${fault.message}; ${acks} ticket(s) printed so far; the job is kept and resumed when the printer is ready`) })
          logger.warn({ jobId: job.id, condition: fault.condition, acks, ...(outcome.kind === 'foreign' ? { bytes: hexDump(outcome.bytes, 32) } : {}) }, 'printer fault; job kept')
        }
        // A printer in fault answers <S1> only once it is ready again: resend only then.
        while (!this.stopped && this.expiry(job) === undefined && !(await probeReady(this.target, this.timeouts()))) {
          await this.sleep(delay)
          delay = Math.min(delay * 2, config.RETRY_MAX_MS)
        }
        delay = config.RETRY_MIN_MS
        continue
      }

      if (nothingPrinted) {
        const code: ErrorCode = outcome.kind === 'timeout' ? 'PRINTER_TIMEOUT' : 'PRINTER_UNREACHABLE'
        const where = `${printer.host}:${printer.port}`
        this.setState('unreachable', `${where}: ${outcome.reason}`)
        if (reportedOutage !== code) {
          reportedOutage = code
          await this.report({ kind: 'error', message: this.errorMessage(job.id, code, `printer ${printer.id} (${where}): ${outcome.reason}; the job is kept and retried until the printer is back`) })
          logger.warn({ jobId: job.id, code, reason: outcome.reason }, 'printer unreachable; job kept')
        }
        await this.sleep(delay)
        delay = Math.min(delay * 2, config.RETRY_MAX_MS)
        continue
      }

      // The printer took the bytes and then went silent or dropped the connection: it may have printed.
      // Reprinting could print twice, so the job ends here and the client is told.
      const code: ErrorCode = outcome.kind === 'timeout' ? 'PRINTER_TIMEOUT' : 'UNCERTAIN'
      this.setState('online')
      logger.warn({ jobId: job.id, code, acks, reason: outcome.reason }, 'job outcome unknown')
      await this.finishWithError(job, code, `printer ${printer.id}: ${outcome.reason} after ${acks} of ${ticketsPerCopy * job.copies} ticket(s) were acknowledged; it may or may not have printed the rest, so it is not resent`)
      return true
    }
    return false
  }

  /**
   * What a fault is called: the condition the printer reported, or, for bytes that are not Boca status, that
   * the device on that port does not speak it, with the bytes seen (hex, truncated) and, when they are Boca
   * status in the other form, the setting to change.
   */
  private describeFault (outcome: Extract<AttemptOutcome, { kind: 'fault' | 'foreign' }>): { condition: string, message: string, detail: string } {
    const { printer } = this.deps
    if (outcome.kind === 'fault') {
      return { condition: outcome.status.condition, message: `printer ${printer.id} reports ${outcome.status.message} (${outcome.status.condition})`, detail: outcome.status.message }
    }
    const { statusEncoding } = this.target
    const other = statusEncoding === 'ascii' ? 'binary' : 'ascii'
    const hint = Array.from(outcome.bytes).every((byte) => decodeStatusByte(byte, other).kind !== 'foreign')
      ? (other === 'ascii' ? ' (Boca status in ASCII mode: if this printer is set so, add it to ASCII_STATUS_PRINTERS)' : ' (plain Boca status bytes: if this printer is not in ASCII status mode, remove it from ASCII_STATUS_PRINTERS)')
      : ''
    const detail = `the device at ${printer.host}:${printer.port} does not speak Boca status${statusEncoding === 'ascii' ? ' in ASCII mode' : ''}: it sent ${hexDump(outcome.bytes)}${hint}`
    return { condition: 'not-boca-status', message: `printer ${printer.id}: ${detail}`, detail }
  }

  private errorMessage (jobId: string | undefined, code: ErrorCode, message: string, retryable = ERROR_CODES[code].retryable): JobErrorMessage {
    return {
      ...(jobId === undefined ? {} : { jobId }),
      printerId: this.deps.printer.id,
      code,
      message,
      retryable,
      at: new Date().toISOString()
    }
  }

  /** A job's last word: not retryable, remembered for duplicates. */
  private finishWithError (job: SpooledJob, code: ErrorCode, message: string): Promise<void> {
    return this.finish(job, { kind: 'error', message: this.errorMessage(job.id, code, message, false) })
  }

  /**
   * Stores an outcome in the spool's outbox, then publishes it. With `job`, the job leaves the queue and its
   * outcome is remembered for duplicates; without, it finishes no job (a refusal, a transient error, a
   * duplicate's answer). `next`: the job to print next, marked `printing` in the same sync.
   *
   * Published only once on disk: publishing while writing saved about 0.15 ms per job, but a relay that died in
   * that instant answered the job `printed` and then, after its restart, `UNCERTAIN` (1 job in 20 relay kills of
   * the soak). One answer per job is worth more.
   */
  private async finish (job: SpooledJob | undefined, outcome: StoredOutcome, next?: SpooledJob): Promise<void> {
    for (;;) {
      try {
        this.deps.sink.deliver(await this.deps.spool.finish(this.deps.printer.id, outcome, job, next))
        return
      } catch (error) {
        // Not on disk: the next job's mark is not either.
        if (next !== undefined) next.phase = 'queued'
        next = undefined
        // A job that has printed must not print again: keep trying to record its outcome, not to reprint it.
        // If the relay stops first, the job stays `printing` on disk and is reported UNCERTAIN after a restart.
        if (job === undefined || this.stopped) throw error
        this.deps.logger.error({ err: error, jobId: job.id }, 'could not record a job\'s outcome; retrying')
        await this.waitForSpool()
      }
    }
  }

  /**
   * The job after the head, marked `printing` (in memory; `finish` writes it) when it is about to go to the
   * printer that has just printed: one sync then records both the outcome and the next job's mark.
   */
  private markNext (): SpooledJob | undefined {
    const next = this.queue[1]?.job
    if (next === undefined || this.stopped || next.phase !== 'queued' || !this.canJudge(next) || this.expiry(next) !== undefined) return undefined
    next.phase = 'printing'
    return next
  }

  private report (outcome: StoredOutcome): Promise<void> {
    return this.finish(undefined, outcome)
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
    return new Promise((resolve) => {
      const done = (): void => { this.wake = undefined; resolve() }
      this.wake = done
      void this.deps.brokerClock.ready().then(done)
    })
  }

  /** Until the spool can write again (or the worker stops); after another kind of failure, RETRY_MAX_MS. */
  private waitForSpool (): Promise<void> {
    const { spool, config } = this.deps
    if (spool.problem === undefined) return this.sleep(config.RETRY_MAX_MS)
    return new Promise((resolve) => {
      const done = (): void => {
        if (this.wake === done) this.wake = undefined
        resolve()
      }
      this.wake = done
      void spool.writable().then(done)
    })
  }

  private sleep (ms: number): Promise<void> {
    return new Promise((resolve) => {
      const timer = setTimeout(() => { this.wake = undefined; resolve() }, ms)
      this.wake = () => { clearTimeout(timer); this.wake = undefined; resolve() }
    })
  }
}
