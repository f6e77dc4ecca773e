/**
 * A printer's state as its relay announces it (retained on `printers/<id>/status`): what the printer says,
 * unless the relay's own trouble (a spool that cannot write) comes first, and how many jobs wait in the relay
 * (`queued`). A change of state is published at once; a change of `queued` alone waits QUEUED_COALESCE_MS, so
 * that a burst of jobs arriving or printing makes a few messages a second at most, never one per job.
 */
import type { PrinterState } from '../protocol/index.ts'
import type { Logger } from '../runtime/logger.ts'
import type { Clock, TimerHandle } from './clock.ts'

export interface StateAndDetail {
  state: PrinterState
  detail?: string
}

/** What a status message says: the state, and the jobs waiting in the relay. */
export interface StatusReport extends StateAndDetail {
  queued: number
}

/** How long a change of `queued` waits to be published, gathering the changes that follow it. */
export const QUEUED_COALESCE_MS = 250

export interface PrinterStatusDeps {
  logger: Logger
  /** Why the spool cannot write now, or undefined while it can. */
  storageProblem: () => string | undefined
  /** Jobs waiting in the relay for the printer (spooled, not yet finished). */
  queued: () => number
  clock: Clock
  publish: (report: StatusReport) => void
}

export class PrinterStatus {
  private readonly deps: PrinterStatusDeps
  /** What the printer says. */
  private printerSays: StateAndDetail = { state: 'online' }
  /** What was last published. */
  private announced: StatusReport = { state: 'online', queued: 0 }
  private queuedTimer: TimerHandle | undefined
  private stopped = false

  constructor (deps: PrinterStatusDeps) {
    this.deps = deps
  }

  /** The status to announce now. */
  current (): StatusReport {
    const problem = this.deps.storageProblem()
    const said = problem === undefined ? this.printerSays : { state: 'error' as const, detail: problem }
    return { ...said, queued: this.deps.queued() }
  }

  /** Whether the printer itself was last seen working. */
  get printerOnline (): boolean {
    return this.printerSays.state === 'online'
  }

  /** What the printer says now; announced if that changes the state. */
  set (state: PrinterState, detail?: string): void {
    if (this.printerSays.state === state && this.printerSays.detail === detail) return
    this.printerSays = detail === undefined ? { state } : { state, detail }
    this.deps.logger.info({ state, detail }, 'printer state')
    this.announce()
  }

  /** The number of jobs waiting changed: announced within QUEUED_COALESCE_MS, with the changes that follow. */
  queueChanged (): void {
    if (this.queuedTimer !== undefined || this.stopped) return
    this.queuedTimer = this.deps.clock.setTimeout(() => {
      this.queuedTimer = undefined
      this.announce()
    }, QUEUED_COALESCE_MS)
  }

  /** Publishes the status when it changed (the spool's trouble came or went, the printer's state, or `queued`). */
  announce (): void {
    const now = this.current()
    const { announced } = this
    if (announced.state === now.state && announced.detail === now.detail && announced.queued === now.queued) return
    this.announced = now
    this.deps.publish(now)
  }

  /** Drops a pending announcement of `queued` (the worker stops; the link says what it must on its way out). */
  stop (): void {
    this.stopped = true
    if (this.queuedTimer === undefined) return
    this.deps.clock.clearTimeout(this.queuedTimer)
    this.queuedTimer = undefined
  }
}
