/**
 * The job log: one row per job this page sent, newest first, updated live by the client library's `print`
 * (its updates, its result or its error).
 * Everything in a row is set with textContent: results come from the network.
 */
import type { JobResult } from '../../protocol/payloads.ts'

/** An error of a job, as the client library gives it: a retryable one (`onUpdate`), or the final one. */
export interface JobError {
  code: string
  message: string
  retryable: boolean
}

/** `queued`: sent, no result yet; `retrying`: a retryable error, the relay keeps the job; `failed`: final error. */
export type JobRowStatus = 'queued' | 'printed' | 'sent' | 'retrying' | 'failed'

const MAX_ROWS = 100

interface JobRow {
  printerId: string
  copies: number
  row: HTMLTableRowElement
  result: HTMLTableCellElement
  details: HTMLTableCellElement
  status: JobRowStatus
}

export class JobLog {
  private readonly body: HTMLTableSectionElement
  private readonly empty: HTMLElement
  private readonly jobs = new Map<string, JobRow>()

  constructor (body: HTMLTableSectionElement, empty: HTMLElement) {
    this.body = body
    this.empty = empty
  }

  /** A job just published: a new row at the top saying `queued…`. */
  add (jobId: string, printerId: string, copies: number): void {
    const row = document.createElement('tr')
    row.dataset.jobId = jobId
    const cell = (label: string, text: string): HTMLTableCellElement => {
      const td = document.createElement('td')
      td.dataset.label = label
      td.textContent = text
      row.append(td)
      return td
    }
    cell('Job', jobId).classList.add('job-id')
    cell('Printer', printerId)
    const result = cell('Result', '')
    const details = cell('Details', `${copiesText(copies)}, sending to the broker…`)
    cell('Sent', new Date().toLocaleTimeString())
    const job: JobRow = { printerId, copies, row, result, details, status: 'queued' }
    this.setStatus(job, 'queued', 'queued…')
    this.jobs.set(jobId, job)
    this.body.prepend(row)
    this.trim()
    this.empty.hidden = true
  }

  /** The broker acknowledged the job (PUBACK): it is queued for the printer's relay. */
  accepted (jobId: string): void {
    const job = this.jobs.get(jobId)
    if (job?.status === 'queued') job.details.textContent = `${copiesText(job.copies)}, accepted by the broker; waiting for the printer`
  }

  /** The job's result (the library's `print` resolved). */
  showResult (jobId: string, result: JobResult): void {
    const job = this.jobs.get(jobId)
    if (job === undefined) return
    const parts: string[] = [copiesText(job.copies)]
    if (typeof result.bytes === 'number') parts.push(`${result.bytes} bytes`)
    if (typeof result.durationMs === 'number') parts.push(`in ${formatDuration(result.durationMs)}`)
    if (result.status === 'printed') {
      this.setStatus(job, 'printed', 'printed')
    } else {
      this.setStatus(job, 'sent', 'sent')
      parts.push('the printer reported nothing, so printing is not confirmed')
    }
    job.details.textContent = parts.join(', ')
  }

  /** A retryable error (the relay keeps the job: `retrying`), or the job's final one (`failed`). */
  showError (jobId: string, error: JobError): void {
    const job = this.jobs.get(jobId)
    // A printed job stays printed: nothing later undoes it.
    if (job === undefined || job.status === 'printed' || job.status === 'sent') return
    this.setStatus(job, error.retryable ? 'retrying' : 'failed', error.code)
    job.details.textContent = error.message
    if (error.retryable) {
      const note = document.createElement('span')
      note.className = 'note'
      note.textContent = 'will retry'
      job.result.append(note)
    }
  }

  private setStatus (job: JobRow, status: JobRowStatus, text: string): void {
    job.status = status
    job.row.dataset.status = status
    job.result.textContent = text
  }

  private trim (): void {
    while (this.body.rows.length > MAX_ROWS) {
      const last = this.body.rows[this.body.rows.length - 1]
      const id = last?.dataset.jobId
      if (id !== undefined) this.jobs.delete(id)
      last?.remove()
    }
  }
}

function copiesText (copies: number): string {
  return `${copies} ${copies === 1 ? 'copy' : 'copies'}`
}

function formatDuration (ms: number): string {
  return ms < 1000 ? `${Math.round(ms)} ms` : `${(ms / 1000).toFixed(1)} s`
}
