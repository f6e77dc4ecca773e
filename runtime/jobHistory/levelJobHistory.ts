/**
 * The job history in a LevelDB: a sublevel of the broker's own (PERSISTENCE=level, beside Aedes' sessions), or
 * the web server's under its DATA_DIR in Mosquitto mode. Survives a restart. Keys (each in a sublevel of its
 * own, all written in one batch per event):
 * - `jobs`:    <jobId> → the job's facts (JSON);
 * - `time`:    <first seen, 16 digits>!<jobId> → printer id: every job, oldest first (expiry, and `list`);
 * - `printer`: <printerId>!<first seen>!<jobId> → '': each printer's jobs, oldest first (the cap, and `list`);
 * - `count`:   <printerId> → jobs kept for it.
 * One process owns a LevelDB, so writes run one after another here and the counts stay exact.
 */
import type { AbstractSublevel } from 'abstract-level'
import type { Level } from 'level'
import { jobOfEvent, jobRecordOf, mergeJobEvent, type JobEvent, type JobFacts, type JobHistoryQuery, type JobRecord } from '../../protocol/jobHistory.ts'
import { EXPIRED_REMOVED_PER_WRITE, timeKey, type JobHistoryLimits, type JobHistoryStore, type Now } from './jobHistoryStore.ts'

/** The sublevel of a LevelDB that holds the history. */
export const JOB_HISTORY_SUBLEVEL = 'printwire-job-history'

type Op = { type: 'put', key: string, value: string, sublevel: Sub } | { type: 'del', key: string, sublevel: Sub }
/** One write's operations, and the jobs it removes (each removed once). */
interface Batch { ops: Op[], removed: Set<string> }
type Sub = AbstractSublevel<Level<string, string>, string | Buffer | Uint8Array, string, string>

export class LevelJobHistory implements JobHistoryStore {
  private readonly limits: JobHistoryLimits
  private readonly now: Now
  private readonly root: Sub
  private readonly jobs: Sub
  private readonly time: Sub
  private readonly printer: Sub
  private readonly count: Sub
  /** Jobs kept per printer, as in `count`, once read. */
  private readonly counts = new Map<string, number>()
  private tail: Promise<unknown> = Promise.resolve()

  constructor (deps: { db: Level<string, string>, limits: JobHistoryLimits, now?: Now }) {
    this.limits = deps.limits
    this.now = deps.now ?? Date.now
    this.root = deps.db.sublevel<string, string>(JOB_HISTORY_SUBLEVEL, { valueEncoding: 'utf8' })
    const sub = (name: string): Sub => this.root.sublevel<string, string>(name, { valueEncoding: 'utf8' }) as unknown as Sub
    this.jobs = sub('jobs')
    this.time = sub('time')
    this.printer = sub('printer')
    this.count = sub('count')
  }

  apply (event: JobEvent): Promise<void> {
    const next = this.tail.then(() => this.write(event))
    this.tail = next.catch(() => {})
    return next
  }

  async get (jobId: string): Promise<JobRecord | undefined> {
    const facts = await this.facts(jobId)
    return facts === undefined || this.expired(facts) ? undefined : jobRecordOf(facts)
  }

  async list (query: JobHistoryQuery): Promise<JobRecord[]> {
    const since = timeKey(Math.max(query.since ?? 0, this.now() - this.limits.retentionMs))
    const until = query.until === undefined ? undefined : timeKey(query.until + 1)
    // `time` holds each job's printer: jobs the caller may not see are skipped without reading their facts.
    const entries = query.printerId === undefined
      ? this.time.iterator({ gte: since, ...(until === undefined ? {} : { lt: until }), reverse: true })
      : this.printer.iterator({ gte: `${query.printerId}!${since}`, lt: until === undefined ? `${query.printerId}"` : `${query.printerId}!${until}`, reverse: true })
    const records: JobRecord[] = []
    try {
      for await (const [key, value] of entries) {
        const printerId = query.printerId ?? value
        if (query.visible !== undefined && !query.visible(printerId)) continue
        const facts = await this.facts(key.slice(key.lastIndexOf('!') + 1))
        if (facts === undefined || this.expired(facts)) continue
        const record = jobRecordOf(facts)
        if (query.state === undefined || record.state === query.state) records.push(record)
        if (records.length >= query.limit) break
      }
    } finally {
      await entries.close()
    }
    return records
  }

  private async facts (jobId: string): Promise<JobFacts | undefined> {
    const text = await this.jobs.get(jobId)
    return text === undefined ? undefined : JSON.parse(text) as JobFacts
  }

  private expired (facts: JobFacts): boolean {
    return facts.firstSeenAt < this.now() - this.limits.retentionMs
  }

  private async write (event: JobEvent): Promise<void> {
    const batch: Batch = { ops: [], removed: new Set() }
    const { jobId } = jobOfEvent(event)
    let facts = await this.facts(jobId)
    if (facts !== undefined && this.expired(facts)) {
      await this.remove(facts, batch)
      facts = undefined
    }
    const merged = mergeJobEvent(facts, event)
    batch.ops.push({ type: 'put', sublevel: this.jobs, key: jobId, value: JSON.stringify(merged) })
    if (facts === undefined) await this.added(merged, batch)
    await this.removeExpired(batch, jobId)
    try {
      await this.root.batch(batch.ops as never)
    } catch (error) {
      // The counts read ahead of this batch are not what is stored: read them again.
      this.counts.clear()
      throw error
    }
  }

  /** A new job: indexed, counted for its printer, whose oldest jobs go beyond the cap. */
  private async added (facts: JobFacts, batch: Batch): Promise<void> {
    const at = timeKey(facts.firstSeenAt)
    batch.ops.push({ type: 'put', sublevel: this.time, key: `${at}!${facts.jobId}`, value: facts.printerId })
    batch.ops.push({ type: 'put', sublevel: this.printer, key: `${facts.printerId}!${at}!${facts.jobId}`, value: '' })
    const count = await this.countOf(facts.printerId) + 1
    this.setCount(facts.printerId, count, batch)
    // Bounded per write: after JOB_HISTORY_PER_PRINTER was lowered, the next writes drop the rest.
    const excess = Math.min(count - this.limits.perPrinter, EXPIRED_REMOVED_PER_WRITE)
    if (excess <= 0) return
    const oldest = await this.printer.keys({ gt: `${facts.printerId}!`, lt: `${facts.printerId}"`, limit: excess }).all()
    for (const key of oldest) {
      const old = await this.facts(key.slice(key.lastIndexOf('!') + 1))
      if (old !== undefined) await this.remove(old, batch)
      else batch.ops.push({ type: 'del', sublevel: this.printer, key })
    }
  }

  /** Up to EXPIRED_REMOVED_PER_WRITE of the oldest jobs past the retention (not `keep`, written in this batch). */
  private async removeExpired (batch: Batch, keep: string): Promise<void> {
    const keys = await this.time.keys({ lt: timeKey(this.now() - this.limits.retentionMs), limit: EXPIRED_REMOVED_PER_WRITE }).all()
    for (const key of keys) {
      const jobId = key.slice(key.lastIndexOf('!') + 1)
      const facts = jobId === keep ? undefined : await this.facts(jobId)
      if (facts !== undefined && timeKey(facts.firstSeenAt) === key.slice(0, key.indexOf('!'))) await this.remove(facts, batch)
      else if (jobId !== keep) batch.ops.push({ type: 'del', sublevel: this.time, key })
    }
  }

  /** Deletes a job and its index entries, and counts it out (in `batch`). */
  private async remove (facts: JobFacts, batch: Batch): Promise<void> {
    if (batch.removed.has(facts.jobId)) return
    batch.removed.add(facts.jobId)
    const at = timeKey(facts.firstSeenAt)
    batch.ops.push({ type: 'del', sublevel: this.jobs, key: facts.jobId })
    batch.ops.push({ type: 'del', sublevel: this.time, key: `${at}!${facts.jobId}` })
    batch.ops.push({ type: 'del', sublevel: this.printer, key: `${facts.printerId}!${at}!${facts.jobId}` })
    this.setCount(facts.printerId, Math.max(0, await this.countOf(facts.printerId) - 1), batch)
  }

  private async countOf (printerId: string): Promise<number> {
    const known = this.counts.get(printerId)
    if (known !== undefined) return known
    const stored = await this.count.get(printerId)
    const count = stored === undefined ? 0 : Number(stored)
    this.counts.set(printerId, count)
    return count
  }

  private setCount (printerId: string, count: number, batch: Batch): void {
    this.counts.set(printerId, count)
    if (count === 0) batch.ops.push({ type: 'del', sublevel: this.count, key: printerId })
    else batch.ops.push({ type: 'put', sublevel: this.count, key: printerId, value: String(count) })
  }
}
