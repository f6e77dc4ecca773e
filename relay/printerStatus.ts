/**
 * A printer's state as its relay announces it (retained on `printers/<id>/status`): what the printer says,
 * unless the relay's own trouble (a spool that cannot write) comes first. Published only when it changes.
 */
import type { PrinterState } from '../protocol/index.ts'
import type { Logger } from '../runtime/logger.ts'

export interface StateAndDetail {
  state: PrinterState
  detail?: string
}

export interface PrinterStatusDeps {
  logger: Logger
  /** Why the spool cannot write now, or undefined while it can. */
  storageProblem: () => string | undefined
  publish: (state: PrinterState, detail?: string) => void
}

export class PrinterStatus {
  private readonly deps: PrinterStatusDeps
  /** What the printer says. */
  private printerSays: StateAndDetail = { state: 'online' }
  /** The state last published. */
  private announced: StateAndDetail = { state: 'online' }

  constructor (deps: PrinterStatusDeps) {
    this.deps = deps
  }

  /** The state to announce now. */
  current (): StateAndDetail {
    const problem = this.deps.storageProblem()
    return problem === undefined ? this.printerSays : { state: 'error', detail: problem }
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

  /** Publishes the state when it changed (the spool's trouble came or went, or the printer's state changed). */
  announce (): void {
    const { state, detail } = this.current()
    if (this.announced.state === state && this.announced.detail === detail) return
    this.announced = detail === undefined ? { state } : { state, detail }
    this.deps.publish(state, detail)
  }
}
