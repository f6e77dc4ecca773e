/**
 * The relay's durable spool (LevelDB under STATE_DIR): the jobs it has acknowledged to the broker and not
 * yet finished, the outcomes of finished jobs (to answer a duplicate with the original result), and the
 * outcomes not yet acknowledged by the broker. Its layout is spoolLayout.ts's; its writes (synced, grouped,
 * and what happens after one fails) are spoolWriter.ts's.
 *
 * Few writes per job, because each LevelDB operation costs the relay CPU under load: taking a job in is one
 * record (its settings and bytes together); finishing it deletes that record and writes its outcome, which is
 * also its entry in the outbox until the broker has it (a per-printer watermark, written lazily, says which
 * outcomes the broker has). "Printing" is one mark per printer. The layout of earlier versions is converted at
 * start (spoolMigration.ts).
 */
import { mkdir } from 'node:fs/promises'
import path from 'node:path'
import type { Logger } from '../runtime/logger.ts'
import { systemClock, type Clock } from './clock.ts'
import {
  decodeJob, decodeOutboxEntry, decodeOutcome, encodeJob, encodeOutboxEntry, encodeOutcome, jobKey, markOp, outboxKey, outcomeKey,
  parseOutcomeKey, printerRange, progressOp, seqOfJobKey, seqOfOutcome, UPTIME_KEY,
  type JobPhase, type NewJob, type OutboxEntry, type SpooledJob, type SpoolOp, type StoredOutcome
} from './spoolLayout.ts'
import { migrateSpool, startUptimeClock } from './spoolMigration.ts'
import { SpoolWriter, type SpoolWriterDeps } from './spoolWriter.ts'

export type { JobPhase, NewJob, OutboxEntry, SpooledJob, StoredOutcome } from './spoolLayout.ts'

export interface JobSpoolDeps extends SpoolWriterDeps {
  dir: string
  logger: Logger
  /** Outcomes remembered per printer for duplicate suppression. */
  dedupeWindow: number
  /** The clocks (default: the system's): jobs age on the monotonic one. */
  clock?: Clock
}

/** How often the uptime clock is written down: a crash loses at most this much of every queued job's age. */
export const UPTIME_SAVE_MS = 1000

/** What the spool knows of one printer's finished jobs, in memory. */
interface OutcomeBook {
  /** Remembered outcomes: job id → outcome seq, oldest first. */
  seqOfJob: Map<string, number>
  /** Outcomes of finished jobs the broker has not acknowledged yet, ascending seqs. */
  unacked: number[]
  /** Of those, the ones acknowledged out of order. */
  ackedEarly: Set<number>
  /** Every finished job's outcome up to this seq is acknowledged by the broker (the watermark). */
  acked: number
}

export class JobSpool {
  private readonly deps: JobSpoolDeps
  private readonly writer: SpoolWriter
  private nextSeq = 1
  private readonly books = new Map<string, OutcomeBook>()
  /** The uptime clock: its value at start (as written down by the last run), and the monotonic time then. */
  private uptimeBase = 0
  private monotonicBase = 0
  private uptimeTimer: NodeJS.Timeout | undefined
  private savingUptime: Promise<void> = Promise.resolve()

  constructor (deps: JobSpoolDeps) {
    this.deps = deps
    this.writer = new SpoolWriter(deps)
  }

  private get clock (): Clock {
    return this.deps.clock ?? systemClock
  }

  /** Syncs done, for measurements. */
  get syncs (): number {
    return this.writer.syncs
  }

  /**
   * How long the relay has run on this spool, ms, across restarts: a monotonic clock (a step of the wall
   * clock does not move it) written down every UPTIME_SAVE_MS and at stop. A job's age is measured on it, so
   * the time the relay was not running does not count.
   */
  uptimeMs (): number {
    return this.uptimeBase + (this.clock.monotonic() - this.monotonicBase)
  }

  /** Why the spool cannot write now ("relay disk full", ...); undefined while it can. */
  get problem (): string | undefined {
    return this.writer.problem
  }

  /** Resolves once the spool can write again (at once if it can). */
  writable (): Promise<void> {
    return this.writer.writable()
  }

  async start (): Promise<void> {
    const dir = path.resolve(this.deps.dir, 'spool')
    await mkdir(dir, { recursive: true })
    const { db, sublevels } = await this.writer.open(dir)
    const migrated = await migrateSpool(db, sublevels)
    if (migrated > 0) this.deps.logger.info({ dir, records: migrated }, 'spool converted from the layout of an earlier version')
    const stamped = await startUptimeClock(db, sublevels, this.clock.now())
    if (stamped > 0) this.deps.logger.info({ dir, jobs: stamped }, 'queued jobs of an earlier version: their age so far taken from the wall clock, once')
    this.uptimeBase = Number(await sublevels.uptime.get(UPTIME_KEY) ?? 0)
    this.monotonicBase = this.clock.monotonic()
    this.uptimeTimer = setInterval(() => { void this.saveUptime() }, UPTIME_SAVE_MS)
    this.uptimeTimer.unref()
    this.nextSeq = await this.readBooks() + 1
    this.deps.logger.info({ dir, nextSeq: this.nextSeq }, 'spool open')
  }

  /** Reads what is known of finished jobs into `books`; returns the highest seq in use. */
  private async readBooks (): Promise<number> {
    const { sublevels } = this.writer
    let last = 0
    for await (const key of sublevels.queue.keys()) last = Math.max(last, seqOfJobKey(key))
    for await (const key of sublevels.outbox.keys({ reverse: true, limit: 1 })) last = Math.max(last, Number(key))
    for await (const [printerId, seq] of sublevels.acked.iterator()) this.bookOf(printerId).acked = Number(seq)
    const found: Array<{ printerId: string, jobId: string, seq: number }> = []
    for await (const [key, value] of sublevels.outcomes.iterator()) found.push({ ...parseOutcomeKey(key), seq: seqOfOutcome(value) })
    found.sort((a, b) => a.seq - b.seq)
    for (const { printerId, jobId, seq } of found) {
      const book = this.bookOf(printerId)
      book.seqOfJob.set(jobId, seq)
      if (seq > book.acked) book.unacked.push(seq)
      last = Math.max(last, seq)
    }
    return last
  }

  async stop (): Promise<void> {
    clearInterval(this.uptimeTimer)
    this.uptimeTimer = undefined
    await this.writer.quiesce()
    await this.savingUptime
    if (this.writer.isOpen) await this.writer.commit([this.uptimeOp()]).catch((error: unknown) => this.deps.logger.warn({ err: error }, 'could not write down the spool\'s uptime at stop'))
    await this.writer.close()
  }

  /**
   * Durably takes a job in; resolves once it is on disk. `phase: 'printing'` when it goes to the printer
   * at once (its mark then costs no sync of its own).
   */
  async add (job: NewJob, bytes: Buffer, phase: JobPhase = 'queued'): Promise<SpooledJob> {
    const { sublevels } = this.writer
    const spooled: SpooledJob = { ...job, seq: this.nextSeq++, phase, copiesDone: 0, spooledAtUptimeMs: this.uptimeMs() }
    const ops: SpoolOp[] = [{ type: 'put', sublevel: sublevels.queue, key: jobKey(spooled), value: encodeJob(spooled, bytes) }]
    if (phase === 'printing') ops.push(markOp(sublevels, spooled))
    try {
      await this.writer.commit(ops)
    } catch (error) {
      this.writer.abandon(jobKey(spooled))
      throw error
    }
    return spooled
  }

  /** Durably records a change of phase or progress. */
  async update (job: SpooledJob): Promise<void> {
    const { sublevels } = this.writer
    const ops: SpoolOp[] = [markOp(sublevels, job)]
    if (job.copiesDone > 0) ops.push(progressOp(sublevels, job))
    await this.writer.commit(ops)
  }

  /** The jobs of a printer still to finish, in the order they were taken in, with their sizes (bytes of data). */
  async unfinished (printerId: string): Promise<Array<{ job: SpooledJob, size: number }>> {
    const { sublevels } = this.writer
    const range = printerRange(printerId)
    const marked = Number(await sublevels.mark.get(printerId) ?? 0)
    const progress = new Map<string, number>()
    for await (const [key, copiesDone] of sublevels.progress.iterator(range)) progress.set(key, Number(copiesDone))
    const found: Array<{ job: SpooledJob, size: number }> = []
    for await (const [key, record] of sublevels.queue.iterator(range)) {
      // The bytes stay on disk until the job's turn (`jobBytes`): a long queue costs no memory.
      const { settings, bytes } = decodeJob(record)
      const seq = seqOfJobKey(key)
      // Every record has its stamp since start (startUptimeClock); a record without one counts as just arrived.
      const spooledAtUptimeMs = settings.spooledAtUptimeMs ?? this.uptimeMs()
      found.push({
        job: { ...settings, spooledAtUptimeMs, seq, printerId, copiesDone: progress.get(key) ?? 0, phase: seq === marked ? 'printing' : 'queued' },
        size: bytes.length
      })
    }
    return found
  }

  /** The bytes of an unfinished job, read from disk. */
  async jobBytes (job: Pick<SpooledJob, 'printerId' | 'seq'>): Promise<Buffer> {
    const record = await this.writer.sublevels.queue.get(jobKey(job))
    if (record === undefined) throw new Error(`job ${jobKey(job)} is not in the spool`)
    return decodeJob(record).bytes
  }

  /** The outcome of a finished job with this id, if it is still remembered. */
  async outcomeOf (printerId: string, jobId: string): Promise<StoredOutcome | undefined> {
    if (this.books.get(printerId)?.seqOfJob.has(jobId) !== true) return undefined
    const value = await this.writer.sublevels.outcomes.get(outcomeKey(printerId, jobId))
    return value === undefined ? undefined : decodeOutcome(value)
  }

  /**
   * Durably stores an outcome to publish and returns its entry. When `job` is given, it also finishes that
   * job: it leaves the queue and its outcome is remembered for duplicates. Without one, the outcome
   * finishes no job (a refused job, a transient error, a duplicate's answer). `next`, a job whose new phase
   * is to be recorded in the same sync (the next job of the printer, marked `printing`).
   */
  async finish (printerId: string, outcome: StoredOutcome, job?: SpooledJob, next?: SpooledJob): Promise<OutboxEntry> {
    const { sublevels } = this.writer
    const entry: OutboxEntry = { seq: this.nextSeq++, printerId, outcome }
    const ops: SpoolOp[] = []
    if (next !== undefined) ops.push(markOp(sublevels, next))
    if (job === undefined) {
      ops.push({ type: 'put', sublevel: sublevels.outbox, key: outboxKey(entry.seq), value: encodeOutboxEntry(entry) })
      await this.writer.commit(ops)
      return entry
    }
    entry.finishedJob = true
    const key = jobKey(job)
    ops.push(
      { type: 'del', sublevel: sublevels.queue, key },
      { type: 'put', sublevel: sublevels.outcomes, key: outcomeKey(printerId, job.id), value: encodeOutcome(entry.seq, outcome) }
    )
    if (job.copiesDone > 0) ops.push({ type: 'del', sublevel: sublevels.progress, key })
    await this.writer.commit(ops)
    this.remember(printerId, job.id, entry.seq)
    return entry
  }

  /**
   * Durably stores the outcome of a job id that has no record here (a job cancelled before it arrived): it is
   * remembered for duplicates like a finished job's, so the job is answered with it when it arrives, and it is
   * published like one.
   */
  async settle (printerId: string, jobId: string, outcome: StoredOutcome): Promise<OutboxEntry> {
    const entry: OutboxEntry = { seq: this.nextSeq++, printerId, outcome, finishedJob: true }
    await this.writer.commit([{ type: 'put', sublevel: this.writer.sublevels.outcomes, key: outcomeKey(printerId, jobId), value: encodeOutcome(entry.seq, outcome) }])
    this.remember(printerId, jobId, entry.seq)
    return entry
  }

  /** A finished job's outcome is on disk: remembered for duplicates, and waiting for the broker's acknowledgement. */
  private remember (printerId: string, jobId: string, seq: number): void {
    const book = this.bookOf(printerId)
    book.seqOfJob.set(jobId, seq)
    // Ascending: two outcomes (a job's, and a cancel's) may be stored at once and land in either order.
    let at = book.unacked.length
    while (at > 0 && (book.unacked[at - 1] as number) > seq) at--
    book.unacked.splice(at, 0, seq)
    this.prune(printerId)
  }

  /**
   * The broker has the message: forget it. Not synced, and not even written at once: it goes with the next
   * write, or within 100 ms. At worst, after a crash, the outcome is published again.
   */
  async published (entry: OutboxEntry): Promise<void> {
    if (!this.writer.opened) return
    if (entry.finishedJob !== true) {
      this.writer.writeLazily((sublevels) => ({ type: 'del', sublevel: sublevels.outbox, key: outboxKey(entry.seq) }))
      return
    }
    const book = this.bookOf(entry.printerId)
    if (entry.seq <= book.acked) return // acknowledged again (published twice)
    book.ackedEarly.add(entry.seq)
    let advanced = false
    while (book.unacked.length > 0 && book.ackedEarly.delete(book.unacked[0] as number)) {
      book.acked = book.unacked.shift() as number
      advanced = true
    }
    if (!advanced) return
    this.writer.writeLatestLazily(`acked!${entry.printerId}`, (sublevels) => ({ type: 'put', sublevel: sublevels.acked, key: entry.printerId, value: String(book.acked) }))
  }

  /** Outcomes of a printer not yet acknowledged by the broker, oldest first. */
  async unpublished (printerId: string): Promise<OutboxEntry[]> {
    const entries: OutboxEntry[] = []
    for await (const value of this.writer.sublevels.outbox.values()) {
      const entry = decodeOutboxEntry(value)
      if (entry.printerId === printerId) entries.push(entry)
    }
    const book = this.books.get(printerId)
    if (book !== undefined && book.unacked.length > 0) {
      const waiting = new Set(book.unacked)
      for (const [jobId, seq] of book.seqOfJob) {
        if (!waiting.has(seq)) continue
        const outcome = await this.outcomeOf(printerId, jobId)
        if (outcome !== undefined) entries.push({ seq, printerId, outcome, finishedJob: true })
      }
    }
    return entries.sort((a, b) => a.seq - b.seq)
  }

  private bookOf (printerId: string): OutcomeBook {
    let book = this.books.get(printerId)
    if (book === undefined) {
      book = { seqOfJob: new Map(), unacked: [], ackedEarly: new Set(), acked: 0 }
      this.books.set(printerId, book)
    }
    return book
  }

  /**
   * Forgets the oldest outcomes of a printer beyond the dedupe window (never one the broker lacks), with the
   * lazy writes: every write goes through the writer, so none can follow a failed one.
   */
  private prune (printerId: string): void {
    const book = this.bookOf(printerId)
    const excess = book.seqOfJob.size - this.deps.dedupeWindow
    // Prune in batches, not on every job.
    if (excess < Math.max(1, Math.floor(this.deps.dedupeWindow / 10))) return
    let pruned = 0
    for (const [jobId, seq] of book.seqOfJob) {
      if (pruned >= excess || seq > book.acked) break
      this.writer.writeLazily((sublevels) => ({ type: 'del', sublevel: sublevels.outcomes, key: outcomeKey(printerId, jobId) }))
      book.seqOfJob.delete(jobId)
      pruned++
    }
  }

  private uptimeOp (): SpoolOp {
    return { type: 'put', sublevel: this.writer.sublevels.uptime, key: UPTIME_KEY, value: String(Math.floor(this.uptimeMs())) }
  }

  /** Writes the uptime clock down (not synced: a crash of the process loses nothing the OS has). */
  private saveUptime (): Promise<void> {
    this.savingUptime = this.savingUptime
      .then(() => this.writer.isOpen ? this.writer.writeUnsynced([this.uptimeOp()]) : undefined)
      .catch((error: unknown) => this.deps.logger.warn({ err: error }, 'could not write down the spool\'s uptime'))
    return this.savingUptime
  }
}
