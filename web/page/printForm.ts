/**
 * The print form: the ticket and copies as typed, checked in the page (a bad field is marked and focused, and
 * nothing is sent), Print enabled only when a job can be sent, and Ctrl/Cmd+Enter in the ticket to print.
 */
import { checkCopies, checkTicket } from './jobRequest.ts'

export interface PrintFormUi {
  form: HTMLFormElement
  printer: HTMLSelectElement
  printerHint: HTMLElement
  ticket: HTMLTextAreaElement
  ticketError: HTMLElement
  copies: HTMLInputElement
  copiesError: HTMLElement
  print: HTMLButtonElement
  printReason: HTMLElement
}

export interface PrintFormDeps {
  ui: PrintFormUi
  /** The broker's MAX_JOB_BYTES (`/config.json`). */
  maxJobBytes: number
  /** Print was pressed (or Ctrl+Enter). */
  onSubmit: () => void
}

/** A ticket and copies that passed the page's checks. */
export interface PrintRequest {
  ticket: string
  copies: number
}

export class PrintForm {
  private readonly deps: PrintFormDeps

  constructor (deps: PrintFormDeps) {
    this.deps = deps
  }

  start (): void {
    const { ui, onSubmit } = this.deps
    ui.form.addEventListener('submit', (event) => {
      event.preventDefault()
      onSubmit()
    })
    ui.ticket.addEventListener('keydown', (event) => {
      if (event.key === 'Enter' && (event.ctrlKey || event.metaKey)) {
        event.preventDefault()
        ui.form.requestSubmit()
      }
    })
    ui.ticket.addEventListener('input', () => fieldError(ui.ticket, ui.ticketError, ''))
    ui.copies.addEventListener('input', () => fieldError(ui.copies, ui.copiesError, ''))
  }

  /** The checked request, or undefined after marking the bad fields and focusing the first. */
  read (): PrintRequest | undefined {
    const { ui, maxJobBytes } = this.deps
    const ticket = checkTicket(ui.ticket.value, maxJobBytes)
    fieldError(ui.ticket, ui.ticketError, ticket.ok ? '' : ticket.message)
    const copies = checkCopies(ui.copies.value)
    fieldError(ui.copies, ui.copiesError, copies.ok ? '' : copies.message)
    if (!ticket.ok) { ui.ticket.focus(); return undefined }
    if (!copies.ok) { ui.copies.focus(); return undefined }
    return { ticket: ticket.value, copies: copies.value }
  }

  /** Disables Print and says why (`reason`), or enables it when `reason` is ''; `hint` is about the printer. */
  show (reason: string, hint: string): void {
    const { ui } = this.deps
    ui.print.disabled = reason !== ''
    ui.printReason.textContent = reason
    ui.printerHint.textContent = hint
  }
}

function fieldError (field: HTMLInputElement | HTMLTextAreaElement, box: HTMLElement, message: string): void {
  box.textContent = message
  box.hidden = message === ''
  if (message === '') field.removeAttribute('aria-invalid')
  else field.setAttribute('aria-invalid', 'true')
}
