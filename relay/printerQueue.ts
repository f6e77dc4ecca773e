/**
 * One printer's queue in memory: the jobs waiting or printing, in order, with their ids (a duplicate is not
 * queued twice) and sizes, and the jobs being taken in, all counted against MAX_QUEUED_JOBS and MAX_QUEUED_BYTES.
 * It holds no job's bytes: they stay in the spool until the job's turn.
 */
import type { SpooledJob } from './spoolLayout.ts'

export interface QueueEntry {
  job: SpooledJob
  /** Bytes of data (one copy), counted against MAX_QUEUED_BYTES. */
  size: number
}

export class PrinterQueue {
  /** Called whenever a job joins or leaves the queue (the printer's status carries `queued`). */
  private readonly onChange: () => void
  private readonly entries: QueueEntry[] = []
  private readonly ids = new Set<string>()
  /** Bytes of data of the jobs in the queue, and of those being taken in. */
  private bytes = 0
  /** Jobs being taken in (written to the spool). */
  private arriving = 0

  constructor (deps: { onChange?: () => void } = {}) {
    this.onChange = deps.onChange ?? (() => {})
  }

  /** Jobs queued. */
  get length (): number {
    return this.entries.length
  }

  /** Jobs queued and being taken in. */
  get waiting (): number {
    return this.entries.length + this.arriving
  }

  /** Bytes of data queued and being taken in. */
  get waitingBytes (): number {
    return this.bytes
  }

  get head (): QueueEntry | undefined {
    return this.entries[0]
  }

  /** The job after the head. */
  get second (): SpooledJob | undefined {
    return this.entries[1]?.job
  }

  has (jobId: string): boolean {
    return this.ids.has(jobId)
  }

  /** Whether a job of `size` bytes fits under the limits, counting those being taken in. */
  fits (size: number, limits: { maxJobs: number, maxBytes: number }): boolean {
    return this.waiting < limits.maxJobs && this.bytes + size <= limits.maxBytes
  }

  /**
   * Counts a job of `size` bytes as being taken in until `taking` settles, then queues the job it gave: jobs
   * arriving together must not all fit under the limits.
   */
  async admit (size: number, taking: () => Promise<SpooledJob>): Promise<SpooledJob> {
    this.arriving++
    this.bytes += size
    try {
      const job = await taking()
      this.push(job, size)
      return job
    } finally {
      this.arriving--
      this.bytes -= size
    }
  }

  push (job: SpooledJob, size: number): void {
    this.entries.push({ job, size })
    this.ids.add(job.id)
    this.bytes += size
    this.onChange()
  }

  /** The queued job with this id, if any. */
  find (jobId: string): SpooledJob | undefined {
    return this.ids.has(jobId) ? this.entries.find((entry) => entry.job.id === jobId)?.job : undefined
  }

  /** A job leaves the queue, wherever it is: finished at the head, or cancelled (nothing when it has left already). */
  remove (job: SpooledJob): void {
    const index = this.entries.findIndex((entry) => entry.job === job)
    if (index === -1) return
    const [entry] = this.entries.splice(index, 1) as [QueueEntry]
    this.ids.delete(job.id)
    this.bytes -= entry.size
    this.onChange()
  }
}
