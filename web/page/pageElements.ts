/** The page's elements (index.html), found once by id: a missing one is a bug in the page, said at once. */
import type { LoginUi } from './login.ts'
import type { PreviewUi } from './previewPanel.ts'
import type { PrintFormUi } from './printForm.ts'
import type { SimulatorViewUi } from './simulatorView.ts'
import type { TemplateUi } from './templates.ts'

export interface PageElements {
  connection: HTMLElement
  serverTime: HTMLTimeElement
  notice: HTMLElement
  printForm: PrintFormUi
  login: LoginUi
  logBody: HTMLTableSectionElement
  logEmpty: HTMLElement
  preview: PreviewUi
  templates: TemplateUi
  printed: SimulatorViewUi
}

export function element<T extends HTMLElement> (id: string, type: new () => T): T {
  const found = document.getElementById(id)
  if (!(found instanceof type)) throw new Error(`the page has no #${id} ${type.name}`)
  return found
}

export function findPageElements (): PageElements {
  return {
    connection: element('connection', HTMLElement),
    serverTime: element('server-time', HTMLTimeElement),
    notice: element('notice', HTMLElement),
    printForm: findPrintForm(),
    login: findLogin(),
    logBody: element('job-log', HTMLTableElement).tBodies[0] ?? document.createElement('tbody'),
    logEmpty: element('log-empty', HTMLElement),
    preview: {
      ticket: element('ticket', HTMLTextAreaElement),
      size: element('preview-size', HTMLSelectElement),
      tickets: element('preview-tickets', HTMLElement),
      status: element('preview-status', HTMLElement),
      lintSummary: element('lint-summary', HTMLElement),
      lintList: element('lint-list', HTMLUListElement)
    },
    templates: {
      select: element('template', HTMLSelectElement),
      ticket: element('ticket', HTMLTextAreaElement),
      note: element('template-note', HTMLElement),
      noteText: element('template-note-text', HTMLElement),
      undo: element('template-undo', HTMLButtonElement)
    },
    printed: {
      section: element('printed', HTMLElement),
      image: element('printed-image', HTMLImageElement),
      caption: element('printed-caption', HTMLElement)
    }
  }
}

function findPrintForm (): PrintFormUi {
  return {
    form: element('print-form', HTMLFormElement),
    printer: element('printer', HTMLSelectElement),
    printerHint: element('printer-hint', HTMLElement),
    ticket: element('ticket', HTMLTextAreaElement),
    ticketError: element('ticket-error', HTMLElement),
    copies: element('copies', HTMLInputElement),
    copiesError: element('copies-error', HTMLElement),
    print: element('print', HTMLButtonElement),
    printReason: element('print-reason', HTMLElement)
  }
}

/** The log-in form's elements, the same on the print page and the dashboard (web/dashboard/). */
export function findLogin (): LoginUi {
  return {
    section: element('login', HTMLElement),
    form: element('login-form', HTMLFormElement),
    reason: element('login-reason', HTMLElement),
    user: element('login-user', HTMLInputElement),
    password: element('login-password', HTMLInputElement),
    error: element('login-error', HTMLElement),
    session: element('session', HTMLElement),
    sessionUser: element('session-user', HTMLElement),
    logout: element('logout', HTMLButtonElement)
  }
}

/** A message above the form (role=alert): what went wrong and what to do. */
export function showNotice (notice: HTMLElement, text: string): void {
  notice.textContent = text
  notice.hidden = false
}
