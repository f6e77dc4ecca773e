/** The job history in this process's memory (PERSISTENCE=memory): lost when it stops. */
import { jobOfEvent, jobRecordOf, mergeJobEvent, type JobEvent, type JobFacts, type JobHistoryQuery, type JobRecord } from '../../protocol/jobHistory.ts'
import { EXPIRED_REMOVED_PER_WRITE, type JobHistoryLimits, type JobHistoryStore, type Now } from './jobHistoryStore.ts'

export class MemoryJobHistory implements JobHistoryStore {
  private readonly limits: JobHistoryLimits
  private readonly now: Now
  /** Every job, in the order first seen (a Map keeps insertion order): the oldest are first. */
  private readonly jobs = new Map<string, JobFacts>()
  /** Each printer's job ids, oldest first. */
  private readonly byPrinter = new Map<string, Set<string>>()

  constructor (deps: { limits: JobHistoryLimits, now?: Now }) {
    this.limits = deps.limits
    this.now = deps.now ?? Date.now
  }

  async apply (event: JobEvent): Promise<void> {
    const { jobId } = jobOfEvent(event)
    let facts = this.jobs.get(jobId)
    if (facts !== undefined && this.expired(facts)) {
      this.remove(facts)
      facts = undefined
    }
    const merged = mergeJobEvent(facts, event)
    this.jobs.set(jobId, merged)
    if (facts === undefined) this.added(merged)
    this.removeExpired()
  }

  async get (jobId: string): Promise<JobRecord | undefined> {
    const facts = this.jobs.get(jobId)
    return facts === undefined || this.expired(facts) ? undefined : jobRecordOf(facts)
  }

  async list (query: JobHistoryQuery): Promise<JobRecord[]> {
    const ids = query.printerId === undefined ? [...this.jobs.keys()] : [...this.byPrinter.get(query.printerId) ?? []]
    const records: JobRecord[] = []
    for (let i = ids.length - 1; i >= 0 && records.length < query.limit; i--) {
      const facts = this.jobs.get(ids[i] as string)
      if (facts === undefined || this.expired(facts)) continue
      if (query.since !== undefined && facts.firstSeenAt < query.since) break
      if (query.until !== undefined && facts.firstSeenAt > query.until) continue
      if (query.visible !== undefined && !query.visible(facts.printerId)) continue
      const record = jobRecordOf(facts)
      if (query.state === undefined || record.state === query.state) records.push(record)
    }
    return records
  }

  private expired (facts: JobFacts): boolean {
    return facts.firstSeenAt < this.now() - this.limits.retentionMs
  }

  /** A new job: listed for its printer, whose oldest job goes if it has too many. */
  private added (facts: JobFacts): void {
    let ids = this.byPrinter.get(facts.printerId)
    if (ids === undefined) {
      ids = new Set()
      this.byPrinter.set(facts.printerId, ids)
    }
    ids.add(facts.jobId)
    for (const oldest of ids) {
      if (ids.size <= this.limits.perPrinter) break
      const old = this.jobs.get(oldest)
      if (old === undefined) ids.delete(oldest)
      else this.remove(old)
    }
  }

  /** Up to EXPIRED_REMOVED_PER_WRITE of the oldest jobs, if they are past the retention. */
  private removeExpired (): void {
    let checked = 0
    for (const facts of this.jobs.values()) {
      if (checked++ >= EXPIRED_REMOVED_PER_WRITE || !this.expired(facts)) break
      this.remove(facts)
    }
  }

  private remove (facts: JobFacts): void {
    this.jobs.delete(facts.jobId)
    const ids = this.byPrinter.get(facts.printerId)
    ids?.delete(facts.jobId)
    if (ids?.size === 0) this.byPrinter.delete(facts.printerId)
  }
}
