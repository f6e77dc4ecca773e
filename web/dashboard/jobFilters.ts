/**
 * The job history's filters (printer, outcome, from, to) as `GET /api/jobs` takes them, kept in the page's address
 * (`?printer=…&state=…&since=…&until=…`, local times as the inputs hold them) so that a reload or a link keeps them.
 */
import { JOB_STATES, type JobState } from '../../protocol/jobHistory.ts'
import type { JobFilter } from './dashboardApi.ts'
import type { JobFiltersUi } from './dashboardElements.ts'
import { localInputMs } from './timeText.ts'

export class JobFilters {
  private readonly ui: JobFiltersUi
  private readonly location: Pick<Location, 'pathname' | 'search'>
  private readonly history: Pick<History, 'replaceState' | 'state'>

  constructor (deps: { ui: JobFiltersUi, location: Pick<Location, 'pathname' | 'search'>, history: Pick<History, 'replaceState' | 'state'> }) {
    this.ui = deps.ui
    this.location = deps.location
    this.history = deps.history
  }

  /** Reads the address into the form; `onChange` runs on each change the user makes (and after "Clear filters"). */
  start (onChange: () => void): void {
    this.readAddress()
    const changed = (): void => {
      this.writeAddress()
      onChange()
    }
    this.ui.form.addEventListener('change', changed)
    this.ui.form.addEventListener('submit', (event) => { event.preventDefault(); changed() })
    this.ui.form.addEventListener('reset', () => setTimeout(changed, 0))
  }

  /** The filter as the form says, showing at most `limit` jobs. */
  current (limit: number): JobFilter {
    const { ui } = this
    const since = localInputMs(ui.since.value)
    const until = localInputMs(ui.until.value)
    return {
      ...(ui.printer.value === '' ? {} : { printerId: ui.printer.value }),
      ...((JOB_STATES as readonly string[]).includes(ui.state.value) ? { state: ui.state.value as JobState } : {}),
      ...(since === undefined ? {} : { since }),
      // "To" names a second: the whole of it.
      ...(until === undefined ? {} : { until: until + 999 }),
      limit
    }
  }

  /** The printers to offer: those known, and the one chosen (which may be known only from the address). */
  offerPrinters (ids: Iterable<string>): void {
    const select = this.ui.printer
    const chosen = select.value
    const all = [...new Set([...ids, ...(chosen === '' ? [] : [chosen])])].sort((a, b) => a.localeCompare(b))
    const current = Array.from(select.options).slice(1).map((o) => o.value)
    if (current.join('\n') === all.join('\n')) return
    const any = select.options[0] ?? new Option('All printers', '')
    select.replaceChildren(any, ...all.map((id) => new Option(id, id)))
    select.value = chosen
  }

  private writeAddress (): void {
    const { ui } = this
    const params = new URLSearchParams()
    for (const [name, input] of [['printer', ui.printer], ['state', ui.state], ['since', ui.since], ['until', ui.until]] as const) {
      if (input.value !== '') params.set(name, input.value)
    }
    const search = params.toString()
    this.history.replaceState(this.history.state, '', `${this.location.pathname}${search === '' ? '' : `?${search}`}`)
  }

  private readAddress (): void {
    const { ui } = this
    const params = new URLSearchParams(this.location.search)
    const printer = params.get('printer')
    if (printer !== null && printer !== '') {
      ui.printer.append(new Option(printer, printer))
      ui.printer.value = printer
    }
    const state = params.get('state')
    if (state !== null && (JOB_STATES as readonly string[]).includes(state)) ui.state.value = state
    for (const [name, input] of [['since', ui.since], ['until', ui.until]] as const) {
      const value = params.get(name)
      if (value !== null && localInputMs(value) !== undefined) input.value = value
    }
  }
}
