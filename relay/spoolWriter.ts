/**
 * The spool's LevelDB database and every write to it. Every write that a promise is made on (a PUBACK, a
 * "printing" mark, an outcome) is synced to disk; writes that arrive together share one sync (group commit).
 * Writes nobody waits for (outbox deletes, watermarks) go with the next synced write, or within 100 ms.
 *
 * A write that fails (a full disk, ENOSPC) leaves LevelDB's log with a torn record, and LevelDB keeps
 * appending after it: later writes it reports synced are lost on the next open, so a restarted relay could
 * print a job twice, or answer it twice. So after a failed write the writer closes the database at once and
 * writes nothing more until it has reopened it (which replays the log up to the torn record and starts a new one)
 * and a synced test write has succeeded, retried with backoff. In between, every read and write fails with
 * `RELAY_DISK_FULL`, and `onWritable` says so, and again once it can.
 */
import { Level } from 'level'
import { PrintwireError } from '../protocol/index.ts'
import type { Logger } from '../runtime/logger.ts'
import { nextDelay } from './backoff.ts'
import { openSublevels, writeBatch, type SpoolOp, type SpoolSublevels } from './spoolLayout.ts'

export interface SpoolWriterDeps {
  logger: Logger
  /** fsync each batch (default). false only to measure what durability costs (bench/spoolBench.ts). */
  syncWrites?: boolean
  /** After a failed write, the database is reopened after `min` ms, doubling to `max` (default 500 to 30000). */
  recoveryMs?: { min: number, max: number }
  /** Told when the spool cannot write any more (`problem`, e.g. "relay disk full"), and when it can again (undefined). */
  onWritable?: (problem: string | undefined) => void
}

/** How long a write nobody waits for may wait for a synced one to take it along. */
const LAZY_WRITE_MS = 100

export class SpoolWriter {
  private readonly deps: SpoolWriterDeps
  private db: Level<string, string> | undefined
  /** The sublevels' handles: they outlive a reopen, so a lazy write may name one after a failure. */
  private handles: SpoolSublevels | undefined
  /** Writes promised to their callers, waiting for the next synced batch. */
  private awaitingSync: Array<{ ops: SpoolOp[], resolve: () => void, reject: (error: Error) => void }> = []
  private flushing: Promise<void> | undefined
  /** Writes nobody waits for. */
  private lazy: SpoolOp[] = []
  /** Writes nobody waits for, whose value is read when they are written (the latest one of each key wins). */
  private latest = new Map<string, (sublevels: SpoolSublevels) => SpoolOp>()
  private lazyTimer: NodeJS.Timeout | undefined
  /** Set from a failed write until the database has been reopened and written to (see the file comment). */
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
  /** Queue keys of jobs whose write failed: deleted when the database is reopened, in case the write landed after all. */
  private abandoned: string[] = []
  private stopping = false
  /** Syncs done, for measurements. */
  syncs = 0

  constructor (deps: SpoolWriterDeps) {
    this.deps = deps
  }

  async open (dir: string): Promise<{ db: Level<string, string>, sublevels: SpoolSublevels }> {
    this.stopping = false
    const db = new Level<string, string>(dir)
    await db.open()
    this.db = db
    this.handles = openSublevels(db)
    return { db, sublevels: this.handles }
  }

  /** The sublevels, to read or to name in writes; throws `RELAY_DISK_FULL` while the spool cannot write. */
  get sublevels (): SpoolSublevels {
    if (this.failure !== undefined) throw this.failure.error
    if (this.handles === undefined) throw new Error('spool not started')
    return this.handles
  }

  /** Why the spool cannot write now ("relay disk full", ...); undefined while it can. */
  get problem (): string | undefined {
    return this.failure?.problem
  }

  /** Opened and not closed since (it may be unable to write: see `problem`). */
  get opened (): boolean {
    return this.db !== undefined
  }

  /** Opened, and able to write. */
  get isOpen (): boolean {
    return this.db !== undefined && this.failure === undefined
  }

  /** Resolves once the spool can write again (at once if it can). */
  writable (): Promise<void> {
    if (this.failure === undefined) return Promise.resolve()
    return new Promise((resolve) => this.whenRecovered.push(resolve))
  }

  /** Group commit: writes queued in the same turn share one synced batch. */
  commit (ops: SpoolOp[]): Promise<void> {
    if (this.failure !== undefined) return Promise.reject(this.failure.error)
    return new Promise((resolve, reject) => {
      this.awaitingSync.push({ ops, resolve, reject })
      if (this.flushing === undefined) {
        this.flushing = new Promise<void>((done) => setImmediate(done)).then(() => this.flushLoop())
      }
    })
  }

  /** A queued job whose write failed: deleted when the database is reopened (it was never acknowledged). */
  abandon (queueKey: string): void {
    this.abandoned.push(queueKey)
  }

  /** Writes `make`'s op with the next write, or within LAZY_WRITE_MS (also after a failure: it then waits for the reopen). */
  writeLazily (make: (sublevels: SpoolSublevels) => SpoolOp): void {
    if (this.handles === undefined) return
    this.lazy.push(make(this.handles))
    this.flushLazily()
  }

  /** Writes what `make` gives when the lazy writes go (the latest value of `key` then wins), lazily. */
  writeLatestLazily (key: string, make: (sublevels: SpoolSublevels) => SpoolOp): void {
    if (this.handles === undefined) return
    this.latest.set(key, make)
    this.flushLazily()
  }

  /** Writes `ops` now, unsynced and outside the group commit, if the database is open and can write. */
  async writeUnsynced (ops: SpoolOp[]): Promise<void> {
    if (this.db === undefined || this.failure !== undefined) return
    await writeBatch(this.db, ops, false)
  }

  /** Stops recovering and waits for the writes under way; writes may still be committed before `close`. */
  async quiesce (): Promise<void> {
    this.stopping = true
    clearTimeout(this.recoveryTimer)
    await this.recovering
    await this.flushing
  }

  /** Writes what is left to write, and closes the database. */
  async close (): Promise<void> {
    clearTimeout(this.lazyTimer)
    this.lazyTimer = undefined
    if (this.failure === undefined && (this.awaitingSync.length > 0 || this.hasLazyWrites())) await this.flush()
    await this.closing
    await this.db?.close()
    this.db = undefined
    this.handles = undefined
    this.failure = undefined
    for (const resolve of this.whenRecovered.splice(0)) resolve()
  }

  private flushLazily (): void {
    this.lazyTimer ??= setTimeout(() => {
      this.lazyTimer = undefined
      if (this.hasLazyWrites() && this.flushing === undefined && this.isOpen) this.flushing = this.flushLoop()
    }, LAZY_WRITE_MS)
  }

  private hasLazyWrites (): boolean {
    return this.lazy.length > 0 || this.latest.size > 0
  }

  private async flushLoop (): Promise<void> {
    while (this.awaitingSync.length > 0 || (this.hasLazyWrites() && this.failure === undefined)) await this.flush()
    this.flushing = undefined
  }

  private async flush (): Promise<void> {
    const group = this.awaitingSync.splice(0)
    if (this.failure !== undefined) {
      for (const g of group) g.reject(this.failure.error)
      return
    }
    const lazy = this.lazy.splice(0)
    const latest = this.latest
    this.latest = new Map()
    // The lazy writes after the promised ones (a batch applies in order).
    const handles = this.handles as SpoolSublevels
    const ops: SpoolOp[] = [...group.flatMap((g) => g.ops), ...lazy, ...[...latest.values()].map((make) => make(handles))]
    // Only the promised writes need the sync; a batch of lazy writes alone is written without one.
    const sync = group.length > 0 && (this.deps.syncWrites ?? true)
    try {
      await writeBatch(this.db as Level<string, string>, ops, sync)
      if (sync) this.syncs++
      if (group.length > 0) this.recoveryDelay = undefined
      for (const g of group) g.resolve()
    } catch (error) {
      // The lazy writes wait for the database to be reopened; the promised ones are refused.
      this.lazy.unshift(...lazy)
      for (const [key, op] of latest) if (!this.latest.has(key)) this.latest.set(key, op)
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
    const sublevels = this.handles
    if (db === undefined || sublevels === undefined || this.stopping) return
    const maxMs = this.deps.recoveryMs?.max ?? 30_000
    try {
      await this.closing
      await db.open()
      await Promise.all(Object.values(sublevels).map((sublevel) => sublevel.open()))
      // A job write that failed may have reached the log whole: it was never acknowledged, so it must not print.
      const ops: SpoolOp[] = this.abandoned.map((key) => ({ type: 'del', sublevel: sublevels.queue, key }))
      ops.push({ type: 'put', sublevel: sublevels.probe, key: 'written', value: new Date().toISOString() })
      await writeBatch(db, ops, this.deps.syncWrites ?? true)
    } catch (error) {
      const next = nextDelay(delay, maxMs)
      this.deps.logger.warn({ err: error, retryInMs: next }, 'the spool still cannot write')
      this.closing = db.close().catch(() => {})
      this.scheduleRecovery(next)
      return
    }
    if (this.stopping) return
    this.recoveryDelay = nextDelay(delay, maxMs)
    this.abandoned = []
    const problem = this.failure?.problem
    this.failure = undefined
    this.deps.logger.info({ was: problem }, 'the spool can write again')
    this.deps.onWritable?.(undefined)
    for (const resolve of this.whenRecovered.splice(0)) resolve()
    if (this.hasLazyWrites() && this.flushing === undefined) this.flushing = this.flushLoop()
  }
}

/** ENOSPC or EDQUOT, as LevelDB reports them (in its message: it gives no errno). */
function isDiskFull (error: unknown): boolean {
  for (let e: unknown = error; e instanceof Error; e = e.cause) {
    if (/No space left on device|ENOSPC|Disk quota exceeded|EDQUOT/i.test(e.message)) return true
  }
  return false
}
