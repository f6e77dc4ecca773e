/**
 * The relay's durable spool (LevelDB under STATE_DIR): the jobs it has acknowledged to the broker and not
 * yet finished, the outcomes of finished jobs (to answer a duplicate with the original result), and the
 * outcomes not yet acknowledged by the broker. Every write that a promise is made on (a PUBACK, a "printing"
 * mark, an outcome) is synced to disk; writes that arrive together share one sync (group commit).
 *
 * Few writes per job, because each LevelDB operation costs CPU (it was 40 % of the relay's under load):
 * taking a job in is one record (its settings and bytes together); finishing it deletes that record and
 * writes its outcome, which is also its entry in the outbox until the broker has it (a per-printer
 * watermark, written lazily, says which outcomes the broker has). "Printing" is one mark per printer.
 * The layout of earlier versions is converted at start (spoolMigration.ts).
 *
 * A write that fails (a full disk, ENOSPC) leaves LevelDB's log with a torn record, and LevelDB keeps
 * appending after it: later writes it reports synced are lost on the next open (a relay that restarted after a
 * full disk printed jobs twice and answered one `printed` and then `UNCERTAIN`). So after a failed write the
 * spool closes the database at once and writes nothing more until it has reopened it (which replays the log up
 * to the torn record and starts a new one) and a synced test write has succeeded, retried with backoff. In
 * between, every read and write fails with `RELAY_DISK_FULL`, and `onWritable` says so, and again once it can.
 */
import { mkdir } from 'node:fs/promises'
import path from 'node:path'
import { Level } from 'level'
import { PrintwireError } from '../protocol/index.ts'
import type { Logger } from '../runtime/logger.ts'
import { systemClock, type Clock } from './clock.ts'
import { decodeJob, encodeJob, jobKey, openSublevels, pad, seqOfKey, UPTIME_KEY, writeBatch, type JobPhase, type NewJob, type OutboxEntry, type SpooledJob, type SpoolOp, type SpoolSublevels, type StoredOutcome } from './spoolLayout.ts'
import { migrateSpool, startUptimeClock } from './spoolMigration.ts'

export type { JobPhase, NewJob, OutboxEntry, SpooledJob, StoredOutcome } from './spoolLayout.ts'

export interface JobSpoolDeps {
  dir: string
  logger: Logger
  /** Outcomes remembered per printer for duplicate suppression. */
  dedupeWindow: number
  /** fsync each batch (default). false only to measure what durability costs (bench/spoolBench.ts). */
  syncWrites?: boolean
  /** The clocks (default: the system's): jobs age on the monotonic one. */
  clock?: Clock
  /** After a failed write, the spool is reopened after `min` ms, doubling to `max` (default 500 to 30000). */
  recoveryMs?: { min: number, max: number }
  /** Told when the spool cannot write any more (`problem`, e.g. "relay disk full"), and when it can again (undefined). */
  onWritable?: (problem: string | undefined) => void
}

/** How often the uptime clock is written down: a crash loses at most this much of every queued job's age. */
export const UPTIME_SAVE_MS = 1000

type Batch = SpoolOp[]

/** What the spool knows of one printer, in memory. */
interface PrinterBook {
  /** Remembered outcomes: job id → outcome seq, oldest first. */
  done: Map<string, number>
  /** Outcomes of finished jobs the broker has not acknowledged yet, ascending seqs. */
  unacked: number[]
  /** Of those, the ones acknowledged out of order. */
  ackedEarly: Set<number>
  /** Every finished job's outcome up to this seq is acknowledged by the broker. */
  acked: number
}

export class JobSpool {
  private readonly deps: JobSpoolDeps
  private db: Level<string, string> | undefined
  private sublevels: SpoolSublevels | undefined
  private nextSeq = 1
  private pending: Array<{ ops: Batch, resolve: () => void, reject: (error: Error) => void }> = []
  private flushing: Promise<void> | undefined
  private readonly books = new Map<string, PrinterBook>()
  /** Writes nobody waits for (outbox deletes, watermarks): they go with the next write, or within 100 ms. */
  private lazy: Batch = []
  private readonly dirtyWatermarks = new Set<string>()
  private lazyTimer: NodeJS.Timeout | undefined
  /** Set from a failed write until the spool has been reopened and written to (see the file comment). */
  private failure: { problem: string, error: PrintwireError } | undefined
  private closing: Promise<void> = Promise.resolve()
  private recoveryTimer: NodeJS.Timeout | undefined
  private recovering: Promise<void> = Promise.resolve()
  /**
   * The wait before the next reopen after a failure. It keeps growing while the spool recovers and fails
   * again with no job written in between (a disk with room for the test write but not for a job), so that
   * such a disk is not retried, with every job it withholds, at the shortest interval; a write kept resets it.
   */
  private recoveryDelay: number | undefined
  private whenRecovered: Array<() => void> = []
  /** Queue keys of jobs whose write failed: deleted when the spool is reopened, in case the write landed after all. */
  private abandoned: string[] = []
  private stopping = false
  /** Syncs done, for measurements. */
  syncs = 0
  /** The uptime clock: its value at start (as written down by the last run), and the monotonic time then. */
  private uptimeBase = 0
  private monotonicBase = 0
  private uptimeTimer: NodeJS.Timeout | undefined
  private savingUptime: Promise<void> = Promise.resolve()

  constructor (deps: JobSpoolDeps) {
    this.deps = deps
  }

  private get clock (): Clock {
    return this.deps.clock ?? systemClock
  }

  /**
   * How long the relay has run on this spool, ms, across restarts: a monotonic clock (a step of the wall
   * clock does not move it) written down every UPTIME_SAVE_MS and at stop. A job's age is measured on it, so
   * the time the relay was not running does not count.
   */
  uptimeMs (): number {
    return this.uptimeBase + (this.clock.monotonic() - this.monotonicBase)
  }

  private get store (): Level<string, string> {
    if (this.failure !== undefined) throw this.failure.error
    if (this.db === undefined) throw new Error('spool not started')
    return this.db
  }

  private get s (): SpoolSublevels {
    if (this.failure !== undefined) throw this.failure.error
    if (this.sublevels === undefined) throw new Error('spool not started')
    return this.sublevels
  }

  /** Why the spool cannot write now ("relay disk full", ...); undefined while it can. */
  get problem (): string | undefined {
    return this.failure?.problem
  }

  /** Resolves once the spool can write again (at once if it can). */
  writable (): Promise<void> {
    if (this.failure === undefined) return Promise.resolve()
    return new Promise((resolve) => this.whenRecovered.push(resolve))
  }

  async start (): Promise<void> {
    const dir = path.resolve(this.deps.dir, 'spool')
    await mkdir(dir, { recursive: true })
    this.stopping = false
    this.db = new Level<string, string>(dir)
    await this.db.open()
    this.sublevels = openSublevels(this.db)
    const migrated = await migrateSpool(this.db, this.sublevels)
    if (migrated > 0) this.deps.logger.info({ dir, records: migrated }, 'spool converted from the layout of an earlier version')
    const stamped = await startUptimeClock(this.db, this.sublevels, this.clock.now())
    if (stamped > 0) this.deps.logger.info({ dir, jobs: stamped }, 'queued jobs of an earlier version: their age so far taken from the wall clock, once')
    this.uptimeBase = Number(await this.s.clock.get(UPTIME_KEY) ?? 0)
    this.monotonicBase = this.clock.monotonic()
    this.uptimeTimer = setInterval(() => { void this.saveUptime() }, UPTIME_SAVE_MS)
    this.uptimeTimer.unref()
    let last = 0
    for await (const key of this.s.queue.keys()) last = Math.max(last, seqOfKey(key))
    for await (const key of this.s.outbox.keys({ reverse: true, limit: 1 })) last = Math.max(last, Number(key))
    for await (const [printerId, seq] of this.s.acked.iterator()) this.bookOf(printerId).acked = Number(seq)
    const found: Array<{ printerId: string, jobId: string, seq: number }> = []
    for await (const [key, value] of this.s.done.iterator()) {
      const cut = key.indexOf('!')
      found.push({ printerId: key.slice(0, cut), jobId: key.slice(cut + 1), seq: Number(value.slice(0, 16)) })
    }
    found.sort((a, b) => a.seq - b.seq)
    for (const { printerId, jobId, seq } of found) {
      const book = this.bookOf(printerId)
      book.done.set(jobId, seq)
      if (seq > book.acked) book.unacked.push(seq)
      last = Math.max(last, seq)
    }
    this.nextSeq = last + 1
    this.deps.logger.info({ dir, nextSeq: this.nextSeq }, 'spool open')
  }

  async stop (): Promise<void> {
    this.stopping = true
    clearTimeout(this.recoveryTimer)
    clearInterval(this.uptimeTimer)
    this.uptimeTimer = undefined
    await this.recovering
    await this.flushing
    await this.savingUptime
    if (this.db !== undefined && this.failure === undefined) await this.commit([this.uptimeOp()]).catch((error: unknown) => this.deps.logger.warn({ err: error }, 'could not write down the spool\'s uptime at stop'))
    clearTimeout(this.lazyTimer)
    this.lazyTimer = undefined
    if (this.failure === undefined && (this.pending.length > 0 || this.hasLazyWrites())) await this.flush()
    await this.closing
    await this.db?.close()
    this.db = undefined
    this.sublevels = undefined
    this.failure = undefined
    for (const resolve of this.whenRecovered.splice(0)) resolve()
  }

  /**
   * Durably takes a job in; resolves once it is on disk. `phase: 'printing'` when it goes to the printer
   * at once (its mark then costs no sync of its own).
   */
  async add (job: NewJob, bytes: Buffer, phase: JobPhase = 'queued'): Promise<SpooledJob> {
    const spooled: SpooledJob = { ...job, seq: this.nextSeq++, phase, copiesDone: 0, spooledAtUptimeMs: this.uptimeMs() }
    const ops: Batch = [{ type: 'put', sublevel: this.s.queue, key: jobKey(spooled), value: encodeJob(spooled, bytes) }]
    if (phase === 'printing') ops.push(markOp(this.s, spooled))
    try {
      await this.commit(ops)
    } catch (error) {
      this.abandoned.push(jobKey(spooled))
      throw error
    }
    return spooled
  }

  /** Durably records a change of phase or progress. */
  async update (job: SpooledJob): Promise<void> {
    const ops: Batch = [markOp(this.s, job)]
    if (job.copiesDone > 0) ops.push({ type: 'put', sublevel: this.s.progress, key: jobKey(job), value: String(job.copiesDone) })
    await this.commit(ops)
  }

  /** The jobs of a printer still to finish, in the order they were taken in, with their sizes (bytes of data). */
  async unfinished (printerId: string): Promise<Array<{ job: SpooledJob, size: number }>> {
    const range = { gt: `${printerId}!`, lt: `${printerId}!~` }
    const mark = Number(await this.s.mark.get(printerId) ?? 0)
    const progress = new Map<string, number>()
    for await (const [key, copiesDone] of this.s.progress.iterator(range)) progress.set(key, Number(copiesDone))
    const found: Array<{ job: SpooledJob, size: number }> = []
    for await (const [key, record] of this.s.queue.iterator(range)) {
      // The bytes stay on disk until the job's turn (`jobBytes`): a long queue costs no memory.
      const { settings, bytes } = decodeJob(record)
      const seq = seqOfKey(key)
      // Every record has its stamp since start (startUptimeClock); a record without one counts as just arrived.
      const spooledAtUptimeMs = settings.spooledAtUptimeMs ?? this.uptimeMs()
      found.push({
        job: { ...settings, spooledAtUptimeMs, seq, printerId, copiesDone: progress.get(key) ?? 0, phase: seq === mark ? 'printing' : 'queued' },
        size: bytes.length
      })
    }
    return found
  }

  /** The bytes of an unfinished job, read from disk. */
  async jobBytes (job: Pick<SpooledJob, 'printerId' | 'seq'>): Promise<Buffer> {
    const record = await this.s.queue.get(jobKey(job))
    if (record === undefined) throw new Error(`job ${jobKey(job)} is not in the spool`)
    return decodeJob(record).bytes
  }

  /** The outcome of a finished job with this id, if it is still remembered. */
  async outcomeOf (printerId: string, jobId: string): Promise<StoredOutcome | undefined> {
    if (this.books.get(printerId)?.done.has(jobId) !== true) return undefined
    const value = await this.s.done.get(`${printerId}!${jobId}`)
    return value === undefined ? undefined : JSON.parse(value.slice(16)) as StoredOutcome
  }

  /**
   * Durably stores an outcome to publish and returns its entry. When `job` is given, it also finishes that
   * job: it leaves the queue and its outcome is remembered for duplicates. Without one, the outcome
   * finishes no job (a refused job, a transient error, a duplicate's answer). `next`, a job whose new phase
   * is to be recorded in the same sync (the next job of the printer, marked `printing`).
   */
  async finish (printerId: string, outcome: StoredOutcome, job?: SpooledJob, next?: SpooledJob): Promise<OutboxEntry> {
    const entry: OutboxEntry = { seq: this.nextSeq++, printerId, outcome }
    const ops: Batch = []
    if (next !== undefined) ops.push(markOp(this.s, next))
    if (job === undefined) {
      ops.push({ type: 'put', sublevel: this.s.outbox, key: pad(entry.seq), value: JSON.stringify(entry) })
      await this.commit(ops)
      return entry
    }
    entry.finishedJob = true
    const key = jobKey(job)
    ops.push(
      { type: 'del', sublevel: this.s.queue, key },
      { type: 'put', sublevel: this.s.done, key: `${printerId}!${job.id}`, value: pad(entry.seq) + JSON.stringify(outcome) }
    )
    if (job.copiesDone > 0) ops.push({ type: 'del', sublevel: this.s.progress, key })
    await this.commit(ops)
    const book = this.bookOf(printerId)
    book.done.set(job.id, entry.seq)
    book.unacked.push(entry.seq)
    this.prune(printerId)
    return entry
  }

  /**
   * The broker has the message: forget it. Not synced, and not even written at once: it goes with the next
   * write, or within 100 ms. At worst, after a crash, the outcome is published again.
   */
  async published (entry: OutboxEntry): Promise<void> {
    if (this.db === undefined) return
    if (entry.finishedJob === true) {
      const book = this.bookOf(entry.printerId)
      if (entry.seq <= book.acked) return // acknowledged again (published twice)
      book.ackedEarly.add(entry.seq)
      let advanced = false
      while (book.unacked.length > 0 && book.ackedEarly.delete(book.unacked[0] as number)) {
        book.acked = book.unacked.shift() as number
        advanced = true
      }
      if (!advanced) return
      this.dirtyWatermarks.add(entry.printerId)
    } else {
      // The sublevel's handle outlives a reopen, so this may be written after one.
      this.lazy.push({ type: 'del', sublevel: (this.sublevels as SpoolSublevels).outbox, key: pad(entry.seq) })
    }
    this.flushLazily()
  }

  /** Writes the lazy writes within 100 ms, unless a promised write takes them first. */
  private flushLazily (): void {
    this.lazyTimer ??= setTimeout(() => {
      this.lazyTimer = undefined
      if (this.hasLazyWrites() && this.flushing === undefined && this.db !== undefined && this.failure === undefined) this.flushing = this.flushLoop()
    }, 100)
  }

  /** Outcomes of a printer not yet acknowledged by the broker, oldest first. */
  async unpublished (printerId: string): Promise<OutboxEntry[]> {
    const entries: OutboxEntry[] = []
    for await (const value of this.s.outbox.values()) {
      const entry = JSON.parse(value) as OutboxEntry
      if (entry.printerId === printerId) entries.push(entry)
    }
    const book = this.books.get(printerId)
    if (book !== undefined && book.unacked.length > 0) {
      const waiting = new Set(book.unacked)
      for (const [jobId, seq] of book.done) {
        if (!waiting.has(seq)) continue
        const outcome = await this.outcomeOf(printerId, jobId)
        if (outcome !== undefined) entries.push({ seq, printerId, outcome, finishedJob: true })
      }
    }
    return entries.sort((a, b) => a.seq - b.seq)
  }

  private bookOf (printerId: string): PrinterBook {
    let book = this.books.get(printerId)
    if (book === undefined) {
      book = { done: new Map(), unacked: [], ackedEarly: new Set(), acked: 0 }
      this.books.set(printerId, book)
    }
    return book
  }

  /**
   * Forgets the oldest outcomes of a printer beyond the dedupe window (never one the broker lacks), with the
   * lazy writes: every write goes through `flush`, so none can follow a failed one (see the file comment).
   */
  private prune (printerId: string): void {
    const book = this.bookOf(printerId)
    const excess = book.done.size - this.deps.dedupeWindow
    // Prune in batches, not on every job.
    if (excess < Math.max(1, Math.floor(this.deps.dedupeWindow / 10))) return
    let pruned = 0
    for (const [jobId, seq] of book.done) {
      if (pruned >= excess || seq > book.acked) break
      this.lazy.push({ type: 'del', sublevel: (this.sublevels as SpoolSublevels).done, key: `${printerId}!${jobId}` })
      book.done.delete(jobId)
      pruned++
    }
    if (pruned > 0) this.flushLazily()
  }

  private uptimeOp (): SpoolOp {
    return { type: 'put', sublevel: this.s.clock, key: UPTIME_KEY, value: String(Math.floor(this.uptimeMs())) }
  }

  /** Writes the uptime clock down (not synced: a crash of the process loses nothing the OS has). */
  private saveUptime (): Promise<void> {
    this.savingUptime = this.savingUptime
      .then(() => this.db === undefined || this.failure !== undefined ? undefined : writeBatch(this.store, [this.uptimeOp()], false))
      .catch((error: unknown) => this.deps.logger.warn({ err: error }, 'could not write down the spool\'s uptime'))
    return this.savingUptime
  }

  private hasLazyWrites (): boolean {
    return this.lazy.length > 0 || this.dirtyWatermarks.size > 0
  }

  /** Group commit: writes queued in the same turn share one synced batch. */
  private commit (ops: Batch): Promise<void> {
    if (this.failure !== undefined) return Promise.reject(this.failure.error)
    return new Promise((resolve, reject) => {
      this.pending.push({ ops, resolve, reject })
      if (this.flushing === undefined) {
        this.flushing = new Promise<void>((done) => setImmediate(done)).then(() => this.flushLoop())
      }
    })
  }

  private async flushLoop (): Promise<void> {
    while (this.pending.length > 0 || (this.hasLazyWrites() && this.failure === undefined)) await this.flush()
    this.flushing = undefined
  }

  private async flush (): Promise<void> {
    const group = this.pending.splice(0)
    if (this.failure !== undefined) {
      for (const g of group) g.reject(this.failure.error)
      return
    }
    const lazy = this.lazy.splice(0)
    const watermarks = [...this.dirtyWatermarks]
    this.dirtyWatermarks.clear()
    // The lazy writes after the promised ones (a batch applies in order).
    const ops: Batch = [...group.flatMap((g) => g.ops), ...lazy]
    for (const printerId of watermarks) {
      ops.push({ type: 'put', sublevel: this.s.acked, key: printerId, value: String(this.bookOf(printerId).acked) })
    }
    // Only the promised writes need the sync; a batch of lazy writes alone is written without one.
    const sync = group.length > 0 && (this.deps.syncWrites ?? true)
    try {
      await writeBatch(this.store, ops, sync)
      if (sync) this.syncs++
      if (group.length > 0) this.recoveryDelay = undefined
      for (const g of group) g.resolve()
    } catch (error) {
      // The lazy writes wait for the spool to be reopened; the promised ones are refused.
      this.lazy.unshift(...lazy)
      for (const printerId of watermarks) this.dirtyWatermarks.add(printerId)
      const failure = this.fail(error)
      for (const g of group) g.reject(failure)
    }
  }

  /** A write failed: close the database before anything else is written to it, and reopen it later. */
  private fail (error: unknown): PrintwireError {
    if (this.failure !== undefined) return this.failure.error
    const reason = (error as Error).message
    const problem = isDiskFull(error) ? 'relay disk full' : `relay disk error: ${reason.slice(0, 200)}`
    const failure = new PrintwireError('RELAY_DISK_FULL', `the relay cannot write to its spool: ${reason}`, { cause: error })
    this.failure = { problem, error: failure }
    this.deps.logger.error({ err: error, problem }, 'a write to the spool failed: it takes no job and records nothing until it can write again')
    const db = this.db
    this.closing = db === undefined ? Promise.resolve() : db.close().catch((closeError: unknown) => this.deps.logger.warn({ err: closeError }, 'could not close the spool'))
    this.scheduleRecovery(this.recoveryDelay ?? this.deps.recoveryMs?.min ?? 500)
    this.deps.onWritable?.(problem)
    return failure
  }

  private scheduleRecovery (delay: number): void {
    if (this.stopping) return
    this.recoveryTimer = setTimeout(() => { this.recovering = this.recover(delay) }, delay)
  }

  /** Reopens the database (replaying its log up to the failed write) and tries a synced write; again later if that fails. */
  private async recover (delay: number): Promise<void> {
    const db = this.db
    const s = this.sublevels
    if (db === undefined || s === undefined || this.stopping) return
    try {
      await this.closing
      await db.open()
      await Promise.all(Object.values(s).map((sublevel) => sublevel.open()))
      // A job write that failed may have reached the log whole: it was never acknowledged, so it must not print.
      const ops: Batch = this.abandoned.map((key) => ({ type: 'del', sublevel: s.queue, key }))
      ops.push({ type: 'put', sublevel: s.probe, key: 'written', value: new Date().toISOString() })
      await writeBatch(db, ops, this.deps.syncWrites ?? true)
    } catch (error) {
      const next = this.longer(delay)
      this.deps.logger.warn({ err: error, retryInMs: next }, 'the spool still cannot write')
      this.closing = db.close().catch(() => {})
      this.scheduleRecovery(next)
      return
    }
    if (this.stopping) return
    this.recoveryDelay = this.longer(delay)
    this.abandoned = []
    const problem = this.failure?.problem
    this.failure = undefined
    this.deps.logger.info({ was: problem }, 'the spool can write again')
    this.deps.onWritable?.(undefined)
    for (const resolve of this.whenRecovered.splice(0)) resolve()
    if (this.hasLazyWrites() && this.flushing === undefined) this.flushing = this.flushLoop()
  }

  private longer (delay: number): number {
    return Math.min(delay * 2, this.deps.recoveryMs?.max ?? 30_000)
  }
}

/** ENOSPC or EDQUOT, as LevelDB reports them (in its message: it gives no errno). */
function isDiskFull (error: unknown): boolean {
  for (let e: unknown = error; e instanceof Error; e = e.cause) {
    if (/No space left on device|ENOSPC|Disk quota exceeded|EDQUOT/i.test(e.message)) return true
  }
  return false
}

function markOp (s: SpoolSublevels, job: SpooledJob): SpoolOp {
  return { type: 'put', sublevel: s.mark, key: job.printerId, value: job.phase === 'printing' ? String(job.seq) : '0' }
}
