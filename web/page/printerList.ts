/**
 * The printer selector, filled from the client library's printer list (the retained statuses): one option per printer,
 * sorted by id, showing its state and detail. Options are updated in place, so the user's choice (and an
 * open drop-down) survives every update.
 */
import type { PrinterInfo } from '../../client/printerDirectory.ts'
import type { PrinterState } from '../../protocol/payloads.ts'

export interface PrinterEntry {
  id: string
  state: PrinterState
  detail: string | undefined
}

/** What printing on a printer in this state means for the user; '' when it just prints. */
function stateHint (entry: PrinterEntry): string {
  const why = entry.detail ? ` (${entry.detail})` : ''
  switch (entry.state) {
    case 'online': return ''
    case 'offline': return `${entry.id}'s relay is offline${why}: jobs wait until the relay is back.`
    case 'unreachable': return `The relay cannot reach ${entry.id}${why}: jobs wait until the printer is back.`
    case 'error': return `${entry.id} reported a fault${why}: jobs wait until it is fixed.`
  }
}

export function describePrinter (entry: PrinterEntry): string {
  return entry.detail ? `${entry.id} — ${entry.state}: ${entry.detail}` : `${entry.id} — ${entry.state}`
}

export class PrinterSelector {
  private readonly select: HTMLSelectElement
  private readonly placeholder: HTMLOptionElement
  private readonly printers = new Map<string, PrinterEntry>()
  private readonly onChange: () => void
  /** The user has chosen in the drop-down: the only printer is no longer chosen for them. */
  private userChose = false
  /** Not connected: each state is the last one seen. */
  private stale = false

  constructor (select: HTMLSelectElement, onChange: () => void) {
    this.select = select
    this.onChange = onChange
    this.placeholder = document.createElement('option')
    this.placeholder.value = ''
    this.select.replaceChildren(this.placeholder)
    this.renderPlaceholder()
    this.select.addEventListener('change', () => {
      this.userChose = true
      this.onChange()
    })
  }

  /** How many printers are listed. */
  get count (): number {
    return this.printers.size
  }

  /** Not connected: every option says its state is stale (`data-stale` on the drop-down too), until connected again. */
  markStale (stale: boolean): void {
    if (stale === this.stale) return
    this.stale = stale
    this.select.dataset.stale = stale ? 'true' : 'false'
    for (const entry of this.printers.values()) this.render(entry)
    this.onChange()
  }

  /** The chosen printer's id, or undefined when none is chosen. */
  get selectedId (): string | undefined {
    const value = this.select.value
    return value === '' ? undefined : value
  }

  get selected (): PrinterEntry | undefined {
    const id = this.selectedId
    return id === undefined ? undefined : this.printers.get(id)
  }

  /** What to tell the user about printing on the selected printer now, or '' when nothing. */
  hint (): string {
    const entry = this.selected
    if (entry === undefined) return ''
    if (this.stale) return `Not connected: ${entry.id}'s state (${entry.state}) is the last one seen, and may have changed.`
    return stateHint(entry)
  }

  /** The client library's list of printers (`pw.printers()`): each shown, those gone removed. */
  handleList (list: PrinterInfo[]): void {
    const ids = new Set(list.map((printer) => printer.printerId))
    for (const id of [...this.printers.keys()]) if (!ids.has(id)) this.remove(id)
    for (const printer of list) {
      const detail = typeof printer.detail === 'string' && printer.detail !== '' ? printer.detail : undefined
      const known = this.printers.get(printer.printerId)
      if (known?.state === printer.state && known.detail === detail) continue
      this.upsert({ id: printer.printerId, state: printer.state, detail })
    }
    // With one printer, it is chosen (unless the user has chosen in the drop-down).
    const only = this.printers.size === 1 ? [...this.printers.keys()][0] : undefined
    if (only !== undefined && this.selectedId === undefined && !this.userChose) {
      this.select.value = only
      this.onChange()
    }
  }

  private upsert (entry: PrinterEntry): void {
    this.printers.set(entry.id, entry)
    this.render(entry)
    this.renderPlaceholder()
    this.onChange()
  }

  private render (entry: PrinterEntry): void {
    const option = this.optionFor(entry.id) ?? this.insertOption(entry.id)
    option.textContent = this.stale ? `${describePrinter(entry)} (stale: not connected)` : describePrinter(entry)
    option.dataset.state = entry.state
    option.dataset.stale = this.stale ? 'true' : 'false'
  }

  private remove (printerId: string): void {
    if (!this.printers.delete(printerId)) return
    const wasSelected = printerId === this.selectedId
    this.optionFor(printerId)?.remove()
    if (wasSelected) this.select.value = ''
    this.renderPlaceholder()
    this.onChange()
  }

  /** A new option at its sorted place; the placeholder stays first. */
  private insertOption (printerId: string): HTMLOptionElement {
    const option = document.createElement('option')
    option.value = printerId
    const next = Array.from(this.select.options).find((o) => o.value !== '' && compareIds(o.value, printerId) > 0)
    this.select.insertBefore(option, next ?? null)
    return option
  }

  private optionFor (printerId: string): HTMLOptionElement | undefined {
    return Array.from(this.select.options).find((o) => o.value === printerId)
  }

  private renderPlaceholder (): void {
    this.placeholder.textContent = this.printers.size === 0 ? 'No printers yet (waiting for relays)…' : 'Choose a printer…'
  }
}

function compareIds (a: string, b: string): number {
  return a.localeCompare(b, 'en', { numeric: true, sensitivity: 'base' }) || (a < b ? -1 : a > b ? 1 : 0)
}
