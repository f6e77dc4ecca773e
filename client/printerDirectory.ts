/**
 * The printers a client can see: the latest retained `status` of each (SPEC "Results"), as `pw.printers()`
 * lists them. The broker delivers only the statuses of the user's printers, so this is exactly what the user
 * may use. Pure bookkeeping: the client feeds it what arrives on `<prefix>/+/status`.
 */
import { readPrinterStatus, type PrinterState } from '../protocol/payloads.ts'

/** One printer, as `pw.printers()` lists it. */
export interface PrinterInfo {
  printerId: string
  state: PrinterState
  detail?: string
  relayId: string
  at: string
  /** Jobs waiting in the relay, when the relay says. */
  queued?: number
}

/** The states a relay announces once it serves the printer (it has subscribed to its jobs). */
export const SERVED_STATES: readonly PrinterState[] = ['online', 'unreachable', 'error']

export class PrinterDirectory {
  private readonly printers = new Map<string, PrinterInfo>()

  /** A message on `printerId`'s status topic; true when the list changed. An empty payload clears the printer. */
  update (printerId: string, text: string): boolean {
    if (text === '') return this.printers.delete(printerId)
    const status = readPrinterStatus(text)
    if (status === null || status.printerId !== printerId) return false
    const info: PrinterInfo = { printerId, state: status.state, relayId: status.relayId, at: status.at }
    if (status.detail !== undefined) info.detail = status.detail
    const queued = (status as { queued?: unknown }).queued
    if (typeof queued === 'number' && Number.isSafeInteger(queued) && queued >= 0) info.queued = queued
    this.printers.set(printerId, info)
    return true
  }

  get (printerId: string): PrinterInfo | undefined {
    return this.printers.get(printerId)
  }

  /** Every printer seen, by id; copies, so callers cannot change what the client holds. */
  list (): PrinterInfo[] {
    return [...this.printers.values()].sort((a, b) => a.printerId.localeCompare(b.printerId)).map((info) => ({ ...info }))
  }
}
