/**
 * The dashboard's printers: one row per printer the user may see (the client library's list, from the retained
 * statuses), with its state and since when, its relay, the jobs queued in the relay (the status's `queued`, when
 * the relay reports it), its last error and the jobs printed today; and per printer a test print, and for an
 * admin "Forget" (clears its retained status). Rows are kept and updated in place, so a focused button stays.
 */
import type { PrinterInfo } from '../../client/printerDirectory.ts'
import { timeElement } from './timeText.ts'

/** The latest error seen for a printer (a job's final or retryable error, or the printer's own). */
export interface PrinterError {
  code: string
  message: string
  at: string
}

export interface PrinterTableData {
  printers: PrinterInfo[]
  lastErrors: ReadonlyMap<string, PrinterError>
  /** Undefined until the history has been read. */
  printedToday: ReadonlyMap<string, number> | undefined
  /** True when `printedToday` hit the list's limit: counts are "at least". */
  printedTodayCapped: boolean
  mayForget: boolean
  /** Not connected: each state is said to be stale, and the actions are off. */
  stale: boolean
}

export interface PrinterActions {
  testPrint(printerId: string): void
  forget(printerId: string): void
}

const COLUMNS = ['State', 'Since', 'Relay', 'Queued', 'Last error', 'Printed today', 'Actions'] as const

interface Row {
  tr: HTMLTableRowElement
  cells: Record<typeof COLUMNS[number], HTMLTableCellElement>
  testPrint: HTMLButtonElement
  forget: HTMLButtonElement
}

export class PrinterTable {
  private readonly body: HTMLTableSectionElement
  private readonly empty: HTMLElement
  private readonly actions: PrinterActions
  private readonly rows = new Map<string, Row>()

  constructor (deps: { body: HTMLTableSectionElement, empty: HTMLElement, actions: PrinterActions }) {
    this.body = deps.body
    this.empty = deps.empty
    this.actions = deps.actions
  }

  render (data: PrinterTableData, now = Date.now()): void {
    const ids = new Set(data.printers.map((p) => p.printerId))
    for (const [id, row] of this.rows) {
      if (ids.has(id)) continue
      row.tr.remove()
      this.rows.delete(id)
    }
    let previous: HTMLTableRowElement | undefined
    for (const printer of data.printers) {
      const row = this.rows.get(printer.printerId) ?? this.newRow(printer.printerId)
      this.fill(row, printer, data, now)
      // In the list's order (by id).
      const expected = previous === undefined ? this.body.firstElementChild : previous.nextElementSibling
      if (expected !== row.tr) this.body.insertBefore(row.tr, expected)
      previous = row.tr
    }
    this.empty.hidden = data.printers.length > 0
  }

  private newRow (printerId: string): Row {
    const tr = document.createElement('tr')
    tr.dataset.printerId = printerId
    const name = document.createElement('th')
    name.scope = 'row'
    name.dataset.label = 'Printer'
    name.textContent = printerId
    tr.append(name)
    const cells = {} as Row['cells']
    for (const column of COLUMNS) {
      const td = document.createElement('td')
      td.dataset.label = column
      tr.append(td)
      cells[column] = td
    }
    const testPrint = button('Test print', `Test print on ${printerId}`, () => this.actions.testPrint(printerId))
    const forget = button('Forget', `Forget ${printerId}`, () => this.actions.forget(printerId))
    forget.classList.add('danger')
    const group = document.createElement('div')
    group.className = 'row-actions'
    group.append(testPrint, forget)
    cells.Actions.append(group)
    const row = { tr, cells, testPrint, forget }
    this.rows.set(printerId, row)
    return row
  }

  private fill (row: Row, printer: PrinterInfo, data: PrinterTableData, now: number): void {
    const { cells } = row
    row.tr.dataset.state = printer.state
    const badge = document.createElement('span')
    badge.className = 'badge'
    badge.dataset.state = printer.state
    badge.textContent = data.stale ? `${printer.state} (stale)` : printer.state
    const state = document.createElement('span')
    state.append(badge)
    if (printer.detail !== undefined && printer.detail !== '') {
      const detail = document.createElement('span')
      detail.className = 'note'
      detail.textContent = printer.detail
      state.append(detail)
    }
    cells.State.replaceChildren(state)
    cells.Since.replaceChildren(timeElement(printer.at, true, now))
    cells.Relay.textContent = printer.relayId
    cells.Queued.textContent = printer.queued === undefined ? '—' : String(printer.queued)
    cells.Queued.title = printer.queued === undefined ? 'this relay does not report its queue' : 'jobs waiting in the relay'
    const error = data.lastErrors.get(printer.printerId)
    if (error === undefined) {
      cells['Last error'].textContent = '—'
    } else {
      const code = document.createElement('strong')
      code.textContent = error.code
      const message = document.createElement('span')
      message.className = 'note'
      message.textContent = error.message
      const wrapper = document.createElement('span')
      wrapper.append(code, ' ', timeElement(error.at, false, now), message)
      cells['Last error'].replaceChildren(wrapper)
    }
    const printed = data.printedToday?.get(printer.printerId) ?? 0
    cells['Printed today'].textContent = data.printedToday === undefined ? '…' : `${printed}${data.printedTodayCapped && printed > 0 ? '+' : ''}`
    row.forget.hidden = !data.mayForget
    row.testPrint.disabled = data.stale
    row.forget.disabled = data.stale
  }
}

function button (text: string, label: string, onClick: () => void): HTMLButtonElement {
  const b = document.createElement('button')
  b.type = 'button'
  b.className = 'small'
  b.textContent = text
  b.setAttribute('aria-label', label)
  b.addEventListener('click', onClick)
  return b
}
