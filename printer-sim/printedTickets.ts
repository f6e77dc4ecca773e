/**
 * The last tickets a simulated printer printed, kept in memory for `npm start`'s page (printedTicketsRouter.ts):
 * at most `keep` of them (10 by default), so a long demo holds a few tickets, not all it printed.
 */
import type { Logger } from '../runtime/logger.ts'
import type { BocaSimulator, PrintedTicket } from './bocaSimulator.ts'

export interface PrintedTicketsDeps {
  simulator: BocaSimulator
  /** The simulator's printer id (the relay's PRINTERS). */
  printerId: string
  keep?: number
  logger: Logger
}

/** What `<ticketsPath>/latest` answers. */
export interface LatestTicket {
  n: number
  printerId: string
  /** When it printed (ISO 8601). */
  at: string
}

export class PrintedTickets {
  readonly printerId: string
  private readonly simulator: BocaSimulator
  private readonly keep: number
  private readonly logger: Logger
  private readonly kept = new Map<number, PrintedTicket>()
  private readonly onTicket = (ticket: PrintedTicket): void => { this.add(ticket) }

  constructor (deps: PrintedTicketsDeps) {
    this.simulator = deps.simulator
    this.printerId = deps.printerId
    this.keep = deps.keep ?? 10
    this.logger = deps.logger
  }

  async start (): Promise<void> {
    this.simulator.on('ticket', this.onTicket)
    this.logger.debug({ printerId: this.printerId, keep: this.keep }, 'keeping the simulated printer\'s last tickets for the page')
  }

  async stop (): Promise<void> {
    this.simulator.off('ticket', this.onTicket)
    this.kept.clear()
  }

  latest (): LatestTicket | undefined {
    const last = [...this.kept.values()].at(-1)
    return last === undefined ? undefined : { n: last.number, printerId: this.printerId, at: last.at.toISOString() }
  }

  /** Ticket `n`, while it is one of the last `keep`. */
  get (n: number): PrintedTicket | undefined {
    return this.kept.get(n)
  }

  private add (ticket: PrintedTicket): void {
    this.kept.set(ticket.number, ticket)
    for (const n of this.kept.keys()) {
      if (this.kept.size <= this.keep) break
      this.kept.delete(n)
    }
  }
}
