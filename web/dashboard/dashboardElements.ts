/** The dashboard's elements (index.html), found once by id: a missing one is a bug in the page, said at once. */
import type { LoginUi } from '../page/login.ts'
import { element, findLogin } from '../page/pageElements.ts'

export interface JobFiltersUi {
  form: HTMLFormElement
  printer: HTMLSelectElement
  state: HTMLSelectElement
  since: HTMLInputElement
  until: HTMLInputElement
}

export interface DashboardElements {
  main: HTMLElement
  connection: HTMLElement
  serverTime: HTMLTimeElement
  notice: HTMLElement
  staleBanner: HTMLElement
  login: LoginUi
  printers: {
    section: HTMLElement
    summary: HTMLElement
    empty: HTMLElement
    body: HTMLTableSectionElement
    actionResult: HTMLElement
  }
  jobs: {
    section: HTMLElement
    summary: HTMLElement
    error: HTMLElement
    empty: HTMLElement
    body: HTMLTableSectionElement
    actionResult: HTMLElement
    filters: JobFiltersUi
  }
}

function bodyOf (id: string): HTMLTableSectionElement {
  const table = element(id, HTMLTableElement)
  return table.tBodies[0] ?? table.appendChild(document.createElement('tbody'))
}

export function findDashboardElements (): DashboardElements {
  return {
    main: element('dashboard', HTMLElement),
    connection: element('connection', HTMLElement),
    serverTime: element('server-time', HTMLTimeElement),
    notice: element('notice', HTMLElement),
    staleBanner: element('stale-banner', HTMLElement),
    login: findLogin(),
    printers: {
      section: element('printers', HTMLElement),
      summary: element('printers-summary', HTMLElement),
      empty: element('printers-empty', HTMLElement),
      body: bodyOf('printer-table'),
      actionResult: element('printer-action', HTMLElement)
    },
    jobs: {
      section: element('jobs', HTMLElement),
      summary: element('jobs-summary', HTMLElement),
      error: element('jobs-error', HTMLElement),
      empty: element('jobs-empty', HTMLElement),
      body: bodyOf('job-table'),
      actionResult: element('job-action', HTMLElement),
      filters: {
        form: element('job-filters', HTMLFormElement),
        printer: element('filter-printer', HTMLSelectElement),
        state: element('filter-state', HTMLSelectElement),
        since: element('filter-since', HTMLInputElement),
        until: element('filter-until', HTMLInputElement)
      }
    }
  }
}
