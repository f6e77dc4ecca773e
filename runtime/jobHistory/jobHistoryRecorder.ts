/**
 * Turns what is published on the printer topics into job history events (protocol/jobHistory.ts) and writes
 * them to a store, in the background: `observe` only notes the message (no parsing, no I/O) and never throws,
 * so the broker's PUBACK of a job never waits for, or fails with, the history. The history is best effort:
 * a store that fails is logged (at most every LOG_EVERY_MS), and the job goes on.
 * - `<prefix>/<id>/jobs`: published, with its envelope id (a raw job has no id until the relay answers with
 *   the one it made: it is recorded from its result, its publisher unknown);
 * - `responses`: printed or sent; `errors`: a final error (failed, or cancelled for JOB_CANCELLED), or a
 *   retryable one added to the job's list; an error without a job id is the printer's, not a job's;
 * - `cancel` (`{"jobId"}`): the request is noted; the job is cancelled once the relay answers JOB_CANCELLED.
 * Messages are parsed in the order observed, and one job's events are written in that order.
 */
import { isValidPrinterId, JOB_ID_PATTERN, peekJobId, readJobOutcome } from '../../protocol/index.ts'
import type { JobEvent, Publisher } from '../../protocol/jobHistory.ts'
import type { Logger } from '../logger.ts'
import type { JobHistoryStore, Now } from './jobHistoryStore.ts'

/** Topics the history reads, under `<prefix>/<id>/`. */
const KINDS = ['jobs', 'responses', 'errors', 'cancel'] as const
type Kind = (typeof KINDS)[number]

/** Messages noted but not yet written, at most; beyond it new ones are dropped (and counted in the log). */
export const DEFAULT_MAX_PENDING = 10_000
/** How long `stop` waits for what is noted to be written: a stuck store does not hold the broker's stop up. */
export const STOP_WAIT_MS = 3000
const LOG_EVERY_MS = 10_000

interface Noted { kind: Kind, printerId: string, payload: Uint8Array | string, publisher: Publisher, seenAt: number }

/** A message as the recorder read it, for a watcher (the metrics, runtime/printwireMetrics.ts): what it says of a job, if anything. */
export interface SeenJobMessage {
  kind: Kind
  printerId: string
  seenAt: number
  event: JobEvent | undefined
}

export interface JobHistoryRecorderDeps {
  store: JobHistoryStore
  topicPrefix: string
  logger: Logger
  now?: Now
  maxPending?: number
  /** Told of every message read, in order (never delays or fails the history). */
  watch?: (seen: SeenJobMessage) => void
}

export class JobHistoryRecorder {
  private readonly deps: JobHistoryRecorderDeps
  private readonly now: Now
  private readonly noted: Noted[] = []
  private scheduled = false
  /** Per job, the end of its last write. */
  private readonly chains = new Map<string, Promise<void>>()
  private pending = 0
  private idleWaiters: Array<() => void> = []
  private dropped = 0
  private failed = 0
  private lastLog = 0

  constructor (deps: JobHistoryRecorderDeps) {
    this.deps = deps
    this.now = deps.now ?? Date.now
  }

  /** Notes one published message; parsing and writing happen later. Never throws. */
  observe (topic: string, payload: Uint8Array | string, publisher: Publisher): void {
    try {
      const where = this.kindOf(topic)
      if (where === undefined) return
      if (this.pending >= (this.deps.maxPending ?? DEFAULT_MAX_PENDING)) {
        this.dropped += 1
        this.logProblem('job history behind: messages not recorded', undefined)
        return
      }
      this.pending += 1
      this.noted.push({ ...where, payload, publisher, seenAt: this.now() })
      if (!this.scheduled) {
        this.scheduled = true
        setImmediate(() => this.drain())
      }
    } catch (error) {
      this.deps.logger.error({ err: error }, 'job history: could not note a message')
    }
  }

  /** Resolves once everything observed so far is written (or has failed). */
  idle (): Promise<void> {
    if (this.pending === 0) return Promise.resolve()
    return new Promise((resolve) => this.idleWaiters.push(resolve))
  }

  /** Waits (at most STOP_WAIT_MS) for what was noted to be written. */
  async stop (): Promise<void> {
    let timer: NodeJS.Timeout | undefined
    const gaveUp = await Promise.race([
      this.idle().then(() => false),
      new Promise<boolean>((resolve) => { timer = setTimeout(() => resolve(true), STOP_WAIT_MS) })
    ])
    clearTimeout(timer)
    if (gaveUp) this.deps.logger.warn({ pending: this.pending }, 'job history: stopped before these messages were recorded (the store does not answer)')
  }

  private kindOf (topic: string): { kind: Kind, printerId: string } | undefined {
    const prefix = this.deps.topicPrefix
    if (!topic.startsWith(prefix) || topic.charCodeAt(prefix.length) !== 0x2f) return undefined
    const rest = topic.slice(prefix.length + 1)
    const slash = rest.indexOf('/')
    if (slash === -1) return undefined
    const printerId = rest.slice(0, slash)
    const kind = rest.slice(slash + 1) as Kind
    if (!KINDS.includes(kind) || !isValidPrinterId(printerId)) return undefined
    return { kind, printerId }
  }

  private drain (): void {
    this.scheduled = false
    for (const noted of this.noted.splice(0)) {
      let event: JobEvent | undefined
      try {
        event = eventOf(noted)
      } catch (error) {
        this.deps.logger.warn({ err: error, printerId: noted.printerId, kind: noted.kind }, 'job history: could not read a message')
      }
      this.tellWatcher(noted, event)
      if (event === undefined) this.done()
      else this.write(event)
    }
  }

  private tellWatcher ({ kind, printerId, seenAt }: Noted, event: JobEvent | undefined): void {
    if (this.deps.watch === undefined) return
    try {
      this.deps.watch({ kind, printerId, seenAt, event })
    } catch (error) {
      this.deps.logger.error({ err: error, printerId, kind }, 'job history: its watcher failed on a message')
    }
  }

  private write (event: JobEvent): void {
    const jobId = event.kind === 'result' ? event.result.jobId : event.kind === 'error' ? event.error.jobId : event.jobId
    const previous = this.chains.get(jobId) ?? Promise.resolve()
    const next = previous.then(() => this.deps.store.apply(event)).catch((error: unknown) => {
      this.failed += 1
      this.logProblem('job history: could not record a job\'s event (the job itself is not affected)', { err: error, jobId, event: event.kind })
    })
    this.chains.set(jobId, next)
    void next.then(() => {
      if (this.chains.get(jobId) === next) this.chains.delete(jobId)
      this.done()
    })
  }

  private done (): void {
    this.pending -= 1
    if (this.pending > 0) return
    for (const resolve of this.idleWaiters.splice(0)) resolve()
  }

  /** One warning per LOG_EVERY_MS at most, with what was dropped or failed since the last. */
  private logProblem (message: string, fields: Record<string, unknown> | undefined): void {
    const now = Date.now()
    if (now - this.lastLog < LOG_EVERY_MS) return
    this.lastLog = now
    this.deps.logger.warn({ ...fields, dropped: this.dropped, failed: this.failed }, message)
    this.dropped = 0
    this.failed = 0
  }
}

function text (payload: Uint8Array | string): string {
  return typeof payload === 'string' ? payload : Buffer.from(payload.buffer, payload.byteOffset, payload.byteLength).toString('utf8')
}

/** The event a message is, or undefined when it says nothing about a job. */
function eventOf ({ kind, printerId, payload, publisher, seenAt }: Noted): JobEvent | undefined {
  switch (kind) {
    case 'jobs': {
      const jobId = peekJobId(typeof payload === 'string' ? Buffer.from(payload) : payload)
      return jobId === undefined ? undefined : { kind: 'published', jobId, printerId, publisher, seenAt }
    }
    case 'cancel': {
      const jobId = (JSON.parse(text(payload)) as { jobId?: unknown } | null)?.jobId
      return typeof jobId === 'string' && JOB_ID_PATTERN.test(jobId) ? { kind: 'cancelRequested', jobId, printerId, publisher, seenAt } : undefined
    }
    case 'responses':
    case 'errors': {
      const outcome = readJobOutcome(text(payload))
      if (outcome === null || outcome.jobId === undefined || !JOB_ID_PATTERN.test(outcome.jobId)) return undefined
      if ('status' in outcome) return { kind: 'result', result: { ...outcome, printerId }, seenAt }
      return { kind: 'error', error: { ...outcome, jobId: outcome.jobId, printerId }, seenAt }
    }
  }
}
