/**
 * One printer's queue: jobs print one at a time, in the order the broker delivered them, independently
 * of every other printer. A job that cannot print yet (printer unreachable, out of paper, jammed) stays
 * at the head of the queue and is retried with capped exponential backoff; its error is reported once
 * per outage, and the printer's retained status follows what the printer says.
 */
import { randomUUID } from 'node:crypto'
import { countTickets } from '../boca/fgl.ts'
import {
  parseJob, peekJobId, PrintwireError,
  type ErrorCode, type JobResult, type PrinterState
} from '../protocol/index.ts'
import type { Logger } from '../runtime/logger.ts'
import type { PrinterAddress, RelayConfig } from './config.ts'
import { checkReachable, printOnce, probeReady, type PrintTimeouts } from './printerClient.ts'

export interface JobSink {
  publishResult(result: JobResult): void
  publishError(error: { jobId?: string, code: ErrorCode, message: string, retryable?: boolean }): void
  publishStatus(state: PrinterState, detail?: string): void
}

export interface PrinterWorkerDeps {
  config: Pick<RelayConfig, 'RELAY_ID' | 'MAX_JOB_BYTES' | 'STATUS_WAIT_MS' | 'PRINTER_TIMEOUT_MS' | 'PRINTER_CONNECT_TIMEOUT_MS' | 'RETRY_MIN_MS' | 'RETRY_MAX_MS'>
  printer: PrinterAddress
  logger: Logger
  sink: JobSink
}

export interface QueuedJob {
  id: string
  data: Buffer
  copies: number
  expiresAt?: number
  receivedAt: number
}

export class PrinterWorker {
  private readonly deps: PrinterWorkerDeps
  private readonly queue: QueuedJob[] = []
  private running = false
  private stopped = true
  private wake: (() => void) | undefined
  private state: { state: PrinterState, detail?: string } = { state: 'online' }

  constructor (deps: PrinterWorkerDeps) {
    this.deps = deps
  }

  get printerId (): string {
    return this.deps.printer.id
  }

  get pending (): number {
    return this.queue.length
  }

  currentState (): { state: PrinterState, detail?: string } {
    return this.state
  }

  /** Checks that the printer can be reached, so the first status announced is true, then serves the queue. */
  async start (): Promise<void> {
    this.stopped = false
    const { printer, config } = this.deps
    const reason = await checkReachable(printer, config.PRINTER_CONNECT_TIMEOUT_MS)
    if (reason === null) this.setState('online')
    else this.setState('unreachable', `${printer.host}:${printer.port}: ${reason}`)
    if (this.queue.length > 0) this.kick()
  }

  async stop (): Promise<void> {
    this.stopped = true
    this.wake?.()
  }

  /** Takes a payload from `printers/<id>/jobs`: answers a bad one at once, queues a good one. Never waits for the printer. */
  accept (payload: Buffer): void {
    const { logger, sink, config } = this.deps
    let job: QueuedJob
    try {
      const parsed = parseJob(payload, config.MAX_JOB_BYTES)
      job = { id: parsed.id ?? `relay-${randomUUID()}`, data: parsed.data, copies: parsed.copies, receivedAt: Date.now() }
      if (parsed.expiresAt !== undefined) job.expiresAt = parsed.expiresAt
    } catch (error) {
      if (!(error instanceof PrintwireError)) throw error
      const jobId = peekJobId(payload)
      logger.warn({ jobId, code: error.code, bytes: payload.length, reason: error.message }, 'job refused')
      sink.publishError({ ...(jobId === undefined ? {} : { jobId }), code: error.code, message: error.message })
      return
    }
    this.queue.push(job)
    logger.info({ jobId: job.id, bytes: job.data.length, copies: job.copies, queued: this.queue.length }, 'job queued')
    this.kick()
  }

  private kick (): void {
    if (this.running || this.stopped) return
    this.running = true
    void this.drain().finally(() => { this.running = false })
  }

  private async drain (): Promise<void> {
    while (!this.stopped && this.queue.length > 0) {
      const job = this.queue[0] as QueuedJob
      const finished = await this.printWithRetries(job)
      if (finished) this.queue.shift()
    }
  }

  /**
   * Prints one job, retrying while the printer cannot take it. True once the job is finished (printed,
   * or its final error reported); false when the worker stopped first and the job is still to do.
   */
  private async printWithRetries (job: QueuedJob): Promise<boolean> {
    const { logger, sink, config, printer } = this.deps
    const ticketsPerCopy = countTickets(job.data)
    let remainingCopies = job.copies
    let delay = config.RETRY_MIN_MS
    let reportedOutage: string | undefined
    const started = Date.now()
    let totalAcks = 0
    let totalBytes = 0

    while (!this.stopped) {
      if (job.expiresAt !== undefined && Date.now() > job.expiresAt) {
        sink.publishError({ jobId: job.id, code: 'JOB_EXPIRED', message: `the job expired at ${new Date(job.expiresAt).toISOString()} before the printer could print it` })
        logger.warn({ jobId: job.id }, 'job expired before it printed')
        return true
      }
      const data = remainingCopies === 1 ? job.data : Buffer.concat(Array.from({ length: remainingCopies }, () => job.data))
      const attempt = await printOnce(printer, data, ticketsPerCopy * remainingCopies, this.timeouts())
      totalAcks += attempt.report.acks
      totalBytes += attempt.bytesWritten
      const { outcome } = attempt

      if (outcome.kind === 'printed' || outcome.kind === 'sent') {
        this.setState('online')
        const result: JobResult = {
          jobId: job.id,
          printerId: printer.id,
          status: outcome.kind,
          bytes: totalBytes,
          durationMs: Date.now() - started,
          printer: { ...attempt.report, acks: totalAcks, expectedAcks: ticketsPerCopy * job.copies },
          at: new Date().toISOString()
        }
        sink.publishResult(result)
        logger.info({ jobId: job.id, status: result.status, bytes: result.bytes, acks: totalAcks, durationMs: result.durationMs }, 'job done')
        return true
      }

      if (outcome.kind === 'unreachable' || (outcome.kind === 'dropped' && outcome.whileWriting && attempt.report.acks === 0) ||
          (outcome.kind === 'timeout' && outcome.whileWriting && attempt.report.acks === 0)) {
        const code: ErrorCode = outcome.kind === 'timeout' ? 'PRINTER_TIMEOUT' : 'PRINTER_UNREACHABLE'
        const where = `${printer.host}:${printer.port}`
        this.setState('unreachable', `${where}: ${outcome.reason}`)
        if (reportedOutage !== code) {
          reportedOutage = code
          sink.publishError({ jobId: job.id, code, message: `printer ${printer.id} (${where}): ${outcome.reason}; the job is kept and retried until the printer is back` })
          logger.warn({ jobId: job.id, code, reason: outcome.reason }, 'printer unreachable; job kept')
        }
      } else if (outcome.kind === 'fault') {
        const printedCopies = ticketsPerCopy === 0 ? 0 : Math.floor(attempt.report.acks / ticketsPerCopy)
        remainingCopies -= printedCopies
        this.setState('error', outcome.status.message)
        if (reportedOutage !== outcome.status.condition) {
          reportedOutage = outcome.status.condition
          sink.publishError({ jobId: job.id, code: 'PRINTER_ERROR', message: `printer ${printer.id} reports ${outcome.status.message} (${outcome.status.condition}); ${totalAcks} ticket(s) printed so far; the job is kept and resumed when the printer is ready` })
          logger.warn({ jobId: job.id, condition: outcome.status.condition, acks: totalAcks }, 'printer fault; job kept')
        }
        if (remainingCopies <= 0) remainingCopies = 1
        // A printer in fault answers <S1> only once it is ready again: resend only then.
        while (!this.stopped && !(await probeReady(printer, this.timeouts()))) {
          await this.sleep(delay)
          delay = Math.min(delay * 2, config.RETRY_MAX_MS)
        }
        delay = config.RETRY_MIN_MS
        continue
      } else {
        // The printer took the bytes and then went silent or dropped the connection: it may have printed.
        // Reprinting could print twice, so the job ends here and the client is told.
        const code: ErrorCode = outcome.kind === 'timeout' ? 'PRINTER_TIMEOUT' : 'UNCERTAIN'
        this.setState('online')
        sink.publishError({ jobId: job.id, code, message: `printer ${printer.id}: ${outcome.reason} after ${totalAcks} of ${ticketsPerCopy * job.copies} ticket(s) were acknowledged; it may or may not have printed the rest, so it is not resent`, retryable: false })
        logger.warn({ jobId: job.id, code, acks: totalAcks, reason: outcome.reason }, 'job outcome unknown')
        return true
      }

      await this.sleep(delay)
      delay = Math.min(delay * 2, config.RETRY_MAX_MS)
    }
    return false
  }

  private timeouts (): PrintTimeouts {
    const { config } = this.deps
    return { connectMs: config.PRINTER_CONNECT_TIMEOUT_MS, statusWaitMs: config.STATUS_WAIT_MS, printerMs: config.PRINTER_TIMEOUT_MS }
  }

  private setState (state: PrinterState, detail?: string): void {
    if (this.state.state === state && this.state.detail === detail) return
    this.state = detail === undefined ? { state } : { state, detail }
    this.deps.logger.info({ state, detail }, 'printer state')
    this.deps.sink.publishStatus(state, detail)
  }

  private sleep (ms: number): Promise<void> {
    return new Promise((resolve) => {
      const timer = setTimeout(() => { this.wake = undefined; resolve() }, ms)
      this.wake = () => { clearTimeout(timer); this.wake = undefined; resolve() }
    })
  }
}
