/**
 * The Prometheus metrics of a broker (`GET /metrics`, README "Metrics"), in a registry of their own per instance
 * (never prom-client's global one: tests run several brokers in one process). They are fed by what the server
 * already reads: the job history's messages (runtime/jobHistory/jobHistoryRecorder.ts `watch`: jobs, results,
 * errors) and the printers' retained `status`; connections and the broker's own queues are read at each scrape.
 *
 * Cardinality: printer ids come from topic names, which without AUTH_FILE anyone allowed to connect may make up.
 * At most `maxPrinters` (MAX_PRINTER_LABELS) printers get a label of their own; the counters of any further
 * printer go to the label `(other)` (never a printer id: ids cannot hold parentheses), and its state and queue
 * are not exported. Publish times are kept for at most MAX_TRACKED_JOBS jobs awaiting their result (the oldest
 * forgotten first): a job whose publish time is forgotten, or that had no id when published (a raw job, whose id
 * the relay makes), is not in the latency histogram.
 */
import { Counter, Gauge, Histogram, Registry } from 'prom-client'
import { PRINTER_STATES, readPrinterStatus } from '../protocol/index.ts'
import { isErrorCode } from '../protocol/errorCodes.ts'
import type { SeenJobMessage } from './jobHistory/jobHistoryRecorder.ts'

export const METRICS_PATH = '/metrics'
export const METRIC_PREFIX = 'printwire_'
/** Printers with a label of their own, at most. */
export const MAX_PRINTER_LABELS = 1000
/** The label of printers past MAX_PRINTER_LABELS. */
export const OTHER_PRINTERS = '(other)'
/**
 * The `outcome`/`code` label of an error code this version does not know: codes are free text in the errors
 * payload (any publisher of `printers/<id>/errors` may make them up), so only the catalogue's get a label each.
 */
export const UNKNOWN_ERROR_CODE = '(unknown)'
/** Jobs whose publish time is kept until their result, at most. */
export const MAX_TRACKED_JOBS = 10_000
/** Publish→result latency buckets, in seconds: a ticket prints in about a second; a job waits up to a minute for paper. */
export const LATENCY_BUCKETS_SECONDS = [0.05, 0.1, 0.25, 0.5, 1, 2, 5, 10, 20, 30, 60]

export const CONNECTION_KINDS = ['relay', 'client', 'token', 'admin'] as const
export type ConnectionKind = (typeof CONNECTION_KINDS)[number]

export interface PrintwireMetricsDeps {
  /** The connections now, by kind, read at each scrape; left out where the server cannot see them (Mosquitto). */
  connections?: () => Record<ConnectionKind, number>
  /** Jobs the broker holds for a printer's relay, read at each scrape for the printers known (embedded broker). */
  brokerQueued?: (printerId: string) => Promise<number>
  maxPrinters?: number
  maxTrackedJobs?: number
}

interface PrinterView {
  state: string
  /** Jobs waiting in the relay, as its last status said; undefined until one says. */
  queued: number | undefined
}

export class PrintwireMetrics {
  readonly registry = new Registry()
  private readonly deps: PrintwireMetricsDeps
  private readonly labelled = new Set<string>()
  private readonly printers = new Map<string, PrinterView>()
  /** Jobs awaiting their result: printer label and publish time (ms), oldest first. */
  private readonly pending = new Map<string, { printer: string, at: number }>()
  private readonly jobsPublished: Counter<'printer'>
  private readonly results: Counter<'printer' | 'outcome'>
  private readonly retryableErrors: Counter<'printer' | 'code'>
  private readonly latency: Histogram<'printer' | 'result'>

  constructor (deps: PrintwireMetricsDeps = {}) {
    this.deps = deps
    const registers = [this.registry]
    this.jobsPublished = new Counter({ name: `${METRIC_PREFIX}jobs_published_total`, help: 'Jobs published to printers/<id>/jobs (allowed by the access checks), by printer.', labelNames: ['printer'], registers })
    this.results = new Counter({ name: `${METRIC_PREFIX}job_results_total`, help: 'Final outcomes of jobs, by printer: outcome is printed, sent, or the final error code (NO_RELAY, JOB_EXPIRED, ...).', labelNames: ['printer', 'outcome'], registers })
    this.retryableErrors = new Counter({ name: `${METRIC_PREFIX}job_retryable_errors_total`, help: 'Retryable errors reported for jobs that are kept and retried (PRINTER_UNREACHABLE, PAPER_OUT, ...), by printer and code.', labelNames: ['printer', 'code'], registers })
    this.latency = new Histogram({ name: `${METRIC_PREFIX}job_latency_seconds`, help: 'Time from a job\'s publish to its result or final error, as the broker saw them; result is ok (printed or sent) or error.', labelNames: ['printer', 'result'], buckets: LATENCY_BUCKETS_SECONDS, registers })
    const metrics = this
    new Gauge({
      name: `${METRIC_PREFIX}printer_state`,
      help: 'Each printer\'s state from its retained status: 1 for its current state, 0 for the others.',
      labelNames: ['printer', 'state'],
      registers,
      collect () {
        this.reset()
        for (const [printer, view] of metrics.printers) {
          for (const state of PRINTER_STATES) this.set({ printer, state }, view.state === state ? 1 : 0)
        }
      }
    })
    new Gauge({
      name: `${METRIC_PREFIX}printer_queued_jobs`,
      help: 'Jobs waiting in the relay for each printer (spooled, not finished), as its last status said.',
      labelNames: ['printer'],
      registers,
      collect () {
        this.reset()
        for (const [printer, view] of metrics.printers) if (view.queued !== undefined) this.set({ printer }, view.queued)
      }
    })
    const connections = deps.connections
    if (connections !== undefined) {
      new Gauge({
        name: `${METRIC_PREFIX}connections`,
        help: 'MQTT connections now, by kind: relay, client, token (a browser token) or admin.',
        labelNames: ['kind'],
        registers,
        collect () {
          const now = connections()
          for (const kind of CONNECTION_KINDS) this.set({ kind }, now[kind])
        }
      })
    }
    const brokerQueued = deps.brokerQueued
    if (brokerQueued !== undefined) {
      new Gauge({
        name: `${METRIC_PREFIX}broker_queued_jobs`,
        help: 'Jobs the broker holds for each printer\'s relay (stored, not yet taken by the relay), for the printers with a status.',
        labelNames: ['printer'],
        registers,
        async collect () {
          this.reset()
          const printers = [...metrics.printers.keys()]
          const counts = await Promise.all(printers.map(async (printer) => await brokerQueued(printer).catch(() => undefined)))
          printers.forEach((printer, i) => { const count = counts[i]; if (count !== undefined) this.set({ printer }, count) })
        }
      })
    }
  }

  /** The metrics in Prometheus' text format, and its content type. */
  async scrape (): Promise<{ contentType: string, text: string }> {
    return { contentType: this.registry.contentType, text: await this.registry.metrics() }
  }

  /** A message on a printer's jobs, responses, errors or cancel topic, as the job history read it. */
  jobMessage (seen: SeenJobMessage): void {
    const { event } = seen
    // (A printer takes a label only with something to count: cancels and unreadable answers take none.)
    if (seen.kind === 'jobs') {
      const printer = this.labelFor(seen.printerId)
      this.jobsPublished.inc({ printer })
      if (event?.kind === 'published') this.track(event.jobId, printer, seen.seenAt)
    } else if (event?.kind === 'result') {
      this.results.inc({ printer: this.labelFor(seen.printerId), outcome: event.result.status })
      this.finished(event.result.jobId, seen.seenAt, 'ok')
    } else if (event?.kind === 'error' && event.error.retryable) {
      this.retryableErrors.inc({ printer: this.labelFor(seen.printerId), code: codeLabel(event.error.code) })
    } else if (event?.kind === 'error') {
      this.results.inc({ printer: this.labelFor(seen.printerId), outcome: codeLabel(event.error.code) })
      this.finished(event.error.jobId, seen.seenAt, 'error')
    }
  }

  /** A message on `printers/<id>/status` (retained): its state and queue; an empty one forgets the printer. */
  statusMessage (printerId: string, payload: Uint8Array | string): void {
    const text = typeof payload === 'string' ? payload : Buffer.from(payload.buffer, payload.byteOffset, payload.byteLength).toString('utf8')
    if (text === '') {
      this.printers.delete(printerId)
      return
    }
    const status = readPrinterStatus(text)
    if (status === null || status.printerId !== printerId) return
    if (this.labelFor(printerId) === OTHER_PRINTERS) return
    // A status without `queued` (a relay's Will, an older relay) leaves the last count.
    const queued = status.queued ?? this.printers.get(printerId)?.queued
    this.printers.set(printerId, { state: status.state, queued })
  }

  /** Whether a printer's status is known (the broker seeds them from the retained messages only where none came yet). */
  knows (printerId: string): boolean {
    return this.printers.has(printerId)
  }

  private labelFor (printerId: string): string {
    if (this.labelled.has(printerId)) return printerId
    if (this.labelled.size >= (this.deps.maxPrinters ?? MAX_PRINTER_LABELS)) return OTHER_PRINTERS
    this.labelled.add(printerId)
    return printerId
  }

  private track (jobId: string, printer: string, at: number): void {
    this.pending.delete(jobId)
    this.pending.set(jobId, { printer, at })
    if (this.pending.size <= (this.deps.maxTrackedJobs ?? MAX_TRACKED_JOBS)) return
    const oldest = this.pending.keys().next().value
    if (oldest !== undefined) this.pending.delete(oldest)
  }

  private finished (jobId: string, at: number, result: 'ok' | 'error'): void {
    const published = this.pending.get(jobId)
    if (published === undefined) return
    this.pending.delete(jobId)
    this.latency.observe({ printer: published.printer, result }, Math.max(0, at - published.at) / 1000)
  }
}

/** An error code as a label value: a code of the catalogue, or UNKNOWN_ERROR_CODE (bounded, whoever publishes errors). */
function codeLabel (code: string): string {
  return isErrorCode(code) ? code : UNKNOWN_ERROR_CODE
}
