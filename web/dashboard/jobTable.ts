/**
 * The dashboard's job history: the jobs of `GET /api/jobs` (every client's, kept by the broker), newest first,
 * each with its outcome, what went wrong, when it was sent and by whom, and "Cancel" while it waits (pending).
 * Re-rendered whole on each read; a row's Cancel keeps its focus when the row stays (same job id).
 */
import type { JobRecord } from '../../protocol/jobHistory.ts'
import { timeElement } from './timeText.ts'

export interface JobActions {
  cancel(job: JobRecord): void
}

/** What a person reads for a job's outcome. */
function outcomeText (job: JobRecord): string {
  if (job.state === 'pending') return job.cancelRequested === undefined ? 'queued' : 'cancelling…'
  return job.state
}

function details (job: JobRecord): string {
  if (job.error !== undefined) return `${job.error.code}: ${job.error.message}`
  if (job.result !== undefined) return `${job.result.bytes} bytes${typeof job.result.durationMs === 'number' ? ` in ${Math.round(job.result.durationMs)} ms` : ''}`
  const last = job.retryableErrors[job.retryableErrors.length - 1]
  if (last !== undefined) return `${last.code}: ${last.message}${job.retryableErrorCount > 1 ? ` (${job.retryableErrorCount} retries)` : ''}`
  return job.cancelRequested === undefined ? 'waiting for the relay' : 'cancel asked: waiting for the relay'
}

export class JobTable {
  private readonly body: HTMLTableSectionElement
  private readonly empty: HTMLElement
  private readonly actions: JobActions
  private readonly cancelling = new Set<string>()
  private stale = false

  constructor (deps: { body: HTMLTableSectionElement, empty: HTMLElement, actions: JobActions }) {
    this.body = deps.body
    this.empty = deps.empty
    this.actions = deps.actions
  }

  /** Not connected: Cancel is off. */
  setStale (stale: boolean): void {
    this.stale = stale
    for (const button of this.body.querySelectorAll<HTMLButtonElement>('button')) button.disabled = stale || this.cancelling.has(button.closest('tr')?.dataset.jobId ?? '')
  }

  /** A cancel is in flight for this job: its button is disabled until the next read. */
  markCancelling (jobId: string, on: boolean): void {
    if (on) this.cancelling.add(jobId)
    else this.cancelling.delete(jobId)
    const button = this.body.querySelector<HTMLButtonElement>(`tr[data-job-id="${CSS.escape(jobId)}"] button`)
    if (button !== null) button.disabled = on
  }

  render (jobs: readonly JobRecord[], now = Date.now()): void {
    const focused = document.activeElement instanceof HTMLButtonElement ? document.activeElement.closest('tr')?.dataset.jobId : undefined
    const rows = jobs.map((job) => this.row(job, now))
    this.body.replaceChildren(...rows)
    this.empty.hidden = jobs.length > 0
    if (focused !== undefined) rows.find((row) => row.dataset.jobId === focused)?.querySelector('button')?.focus()
  }

  private row (job: JobRecord, now: number): HTMLTableRowElement {
    const tr = document.createElement('tr')
    tr.dataset.jobId = job.jobId
    tr.dataset.printerId = job.printerId
    tr.dataset.status = job.state === 'pending' ? 'queued' : job.state
    const id = document.createElement('th')
    id.scope = 'row'
    id.dataset.label = 'Job'
    id.className = 'job-id'
    id.textContent = job.jobId
    tr.append(id)
    tr.append(cell('Printer', job.printerId))
    tr.append(cell('Outcome', outcomeText(job)))
    tr.append(cell('Details', details(job)))
    const sent = cell('Sent', '')
    const at = job.publishedAt ?? job.finishedAt
    if (at === undefined) sent.textContent = '—'
    else sent.append(timeElement(at, false, now))
    tr.append(sent)
    tr.append(cell('By', job.user ?? (job.anonymous === true ? 'anonymous' : '—')))
    const actions = cell('Actions', '')
    if (job.state === 'pending') {
      const cancel = document.createElement('button')
      cancel.type = 'button'
      cancel.className = 'small secondary'
      cancel.textContent = 'Cancel'
      cancel.setAttribute('aria-label', `Cancel job ${job.jobId}`)
      cancel.disabled = this.stale || this.cancelling.has(job.jobId)
      cancel.addEventListener('click', () => this.actions.cancel(job))
      actions.append(cancel)
    }
    tr.append(actions)
    return tr
  }
}

function cell (label: string, text: string): HTMLTableCellElement {
  const td = document.createElement('td')
  td.dataset.label = label
  td.textContent = text
  return td
}
