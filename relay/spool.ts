/**
 * The relay's durable spool (LevelDB under STATE_DIR): the jobs it has acknowledged to the broker and not
 * yet finished, the outcomes of finished jobs (to answer a duplicate with the original result), and an
 * outbox of results not yet acknowledged by the broker. Every write that a promise is made on (a PUBACK,
 * a "printing" mark) is synced to disk; writes that arrive together share one sync (group commit).
 */
import { mkdir } from 'node:fs/promises'
import path from 'node:path'
import type { AbstractBatchOperation } from 'abstract-level'
import { Level } from 'level'
import type { JobErrorMessage, JobResult } from '../protocol/index.ts'
import type { Logger } from '../runtime/logger.ts'

export type JobPhase = 'queued' | 'printing'

/** A job the relay has taken responsibility for. */
export interface SpooledJob {
  seq: number
  id: string
  printerId: string
  copies: number
  /** Copies already acknowledged by the printer (after a fault, only the rest is sent). */
  copiesDone: number
  expiresAt?: number
  receivedAt: number
  /** `printing` from just before the first byte is written until the outcome is stored. */
  phase: JobPhase
}

export type StoredOutcome =
  | { kind: 'result', message: JobResult }
  | { kind: 'error', message: JobErrorMessage }

export interface OutboxEntry {
  seq: number
  printerId: string
  outcome: StoredOutcome
}

export interface JobSpoolDeps {
  dir: string
  logger: Logger
  /** Outcomes remembered per printer for duplicate suppression. */
  dedupeWindow: number
  /** fsync each batch (default). false only to measure what durability costs (bench/spoolBench.ts). */
  syncWrites?: boolean
}

/** One write of a batch, on any of the spool's sublevels. */
type Op = AbstractBatchOperation<Level<string, string>, string, unknown>
type Batch = Op[]

const pad = (n: number): string => n.toString().padStart(16, '0')

export class JobSpool {
  private readonly deps: JobSpoolDeps
  private db: Level<string, string> | undefined
  private nextSeq = 1
  private pending: Array<{ ops: Batch, resolve: () => void, reject: (error: Error) => void }> = []
  private flushing: Promise<void> | undefined
  private readonly doneCounts = new Map<string, number>()
  /**
   * The ids with a remembered outcome, per printer, in memory: almost every job is new, and a look in this
   * set costs nothing where a LevelDB read costs a tenth of the relay's time per job.
   */
  private readonly doneIds = new Map<string, Set<string>>()
  /** Outbox entries the broker has acknowledged, deleted with the next write (not synced: see `published`). */
  private lazyDeletes: Batch = []
  private lazyTimer: NodeJS.Timeout | undefined
  /** Pruning runs in the background, one at a time; stop() waits for it. */
  private pruning: Promise<void> = Promise.resolve()
  /** Syncs done, for measurements. */
  syncs = 0

  constructor (deps: JobSpoolDeps) {
    this.deps = deps
  }

  private get store (): Level<string, string> {
    if (this.db === undefined) throw new Error('spool not started')
    return this.db
  }

  /** The sublevels, made once at start (making one is not free: it was a tenth of the relay's CPU per job). */
  private sublevels: ReturnType<typeof openSublevels> | undefined
  private get jobs () { return this.opened.jobs }
  private get data () { return this.opened.data }
  private get done () { return this.opened.done }
  private get doneOrder () { return this.opened.doneOrder }
  private get outbox () { return this.opened.outbox }
  private get opened (): ReturnType<typeof openSublevels> {
    if (this.sublevels === undefined) throw new Error('spool not started')
    return this.sublevels
  }

  async start (): Promise<void> {
    const dir = path.resolve(this.deps.dir, 'spool')
    await mkdir(dir, { recursive: true })
    this.db = new Level<string, string>(dir)
    await this.db.open()
    this.sublevels = openSublevels(this.db)
    let last = 0
    for await (const key of this.jobs.keys()) last = Math.max(last, Number(key.split('!')[1] ?? 0))
    for await (const key of this.outbox.keys({ reverse: true, limit: 1 })) last = Math.max(last, Number(key))
    for await (const [key, jobId] of this.doneOrder.iterator()) {
      const [printerId = '', seq = '0'] = key.split('!')
      last = Math.max(last, Number(seq))
      this.doneCounts.set(printerId, (this.doneCounts.get(printerId) ?? 0) + 1)
      this.idsOf(printerId).add(jobId)
    }
    this.nextSeq = last + 1
    this.deps.logger.info({ dir, nextSeq: this.nextSeq }, 'spool open')
  }

  async stop (): Promise<void> {
    await this.flushing
    await this.pruning
    clearTimeout(this.lazyTimer)
    if (this.pending.length > 0 || this.lazyDeletes.length > 0) await this.flush()
    await this.db?.close()
    this.db = undefined
    this.sublevels = undefined
  }

  /**
   * Durably takes a job in; resolves once it is on disk. `phase: 'printing'` when it goes to the printer
   * at once (its mark then costs no sync of its own).
   */
  async add (job: Omit<SpooledJob, 'seq' | 'phase' | 'copiesDone'>, bytes: Buffer, phase: JobPhase = 'queued'): Promise<SpooledJob> {
    const spooled: SpooledJob = { ...job, seq: this.nextSeq++, phase, copiesDone: 0 }
    const key = jobKey(spooled)
    await this.commit([
      { type: 'put', sublevel: this.jobs, key, value: spooled },
      { type: 'put', sublevel: this.data, key, value: bytes }
    ])
    return spooled
  }

  /** Durably records a change of phase or progress. */
  async update (job: SpooledJob): Promise<void> {
    await this.commit([{ type: 'put', sublevel: this.jobs, key: jobKey(job), value: job }])
  }

  /** The jobs of a printer still to finish, in the order they were taken in, with their bytes. */
  async unfinished (printerId: string): Promise<Array<{ job: SpooledJob, bytes: Buffer }>> {
    const found: Array<{ job: SpooledJob, bytes: Buffer }> = []
    for await (const [key, job] of this.jobs.iterator({ gt: `${printerId}!`, lt: `${printerId}!~` })) {
      const bytes = await this.data.get(key)
      if (bytes === undefined) {
        this.deps.logger.error({ printerId, jobId: job.id }, 'spooled job has no data; dropped')
        continue
      }
      found.push({ job, bytes })
    }
    return found
  }

  /** The outcome of a finished job with this id, if it is still remembered. */
  async outcomeOf (printerId: string, jobId: string): Promise<StoredOutcome | undefined> {
    if (!this.idsOf(printerId).has(jobId)) return undefined
    return this.done.get(`${printerId}!${jobId}`)
  }

  private idsOf (printerId: string): Set<string> {
    let ids = this.doneIds.get(printerId)
    if (ids === undefined) {
      ids = new Set()
      this.doneIds.set(printerId, ids)
    }
    return ids
  }

  /**
   * Durably puts an outcome in the outbox and returns the entry to publish. When `job` is given, it also
   * finishes that job: it leaves the queue and its outcome is remembered for duplicates. Without one, the
   * outcome finishes no job (a refused job, a transient error, a duplicate's answer). `next`, a job whose
   * new phase is to be recorded in the same sync (the next job of the printer, marked `printing`).
   */
  async finish (printerId: string, outcome: StoredOutcome, job?: SpooledJob, next?: SpooledJob): Promise<OutboxEntry> {
    const entry: OutboxEntry = { seq: this.nextSeq++, printerId, outcome }
    const ops: Batch = [{ type: 'put', sublevel: this.outbox, key: pad(entry.seq), value: entry }]
    if (next !== undefined) ops.push({ type: 'put', sublevel: this.jobs, key: jobKey(next), value: next })
    if (job !== undefined) {
      const key = jobKey(job)
      ops.push(
        { type: 'del', sublevel: this.jobs, key },
        { type: 'del', sublevel: this.data, key },
        { type: 'put', sublevel: this.done, key: `${printerId}!${job.id}`, value: outcome },
        { type: 'put', sublevel: this.doneOrder, key: `${printerId}!${pad(entry.seq)}`, value: job.id }
      )
      this.doneCounts.set(printerId, (this.doneCounts.get(printerId) ?? 0) + 1)
    }
    await this.commit(ops)
    if (job !== undefined) this.idsOf(printerId).add(job.id)
    if (job !== undefined) {
      this.pruning = this.pruning
        .then(() => this.prune(printerId))
        .catch((error: unknown) => this.deps.logger.warn({ err: error }, 'could not prune the spool'))
    }
    return entry
  }

  /**
   * The broker has the message: forget it. Not synced, and not even written at once: the delete goes with the
   * next write, or within 100 ms. At worst, after a crash, the outcome is published again.
   */
  async published (entry: OutboxEntry): Promise<void> {
    if (this.db === undefined) return
    this.lazyDeletes.push({ type: 'del', sublevel: this.outbox, key: pad(entry.seq) })
    this.lazyTimer ??= setTimeout(() => {
      this.lazyTimer = undefined
      if (this.lazyDeletes.length > 0 && this.flushing === undefined && this.db !== undefined) {
        this.flushing = this.flushLoop()
      }
    }, 100)
  }

  /** Outcomes of a printer not yet acknowledged by the broker, oldest first. */
  async unpublished (printerId: string): Promise<OutboxEntry[]> {
    const entries: OutboxEntry[] = []
    for await (const entry of this.outbox.values()) if (entry.printerId === printerId) entries.push(entry)
    return entries
  }

  /** Forgets the oldest outcomes of a printer beyond the dedupe window. */
  private async prune (printerId: string): Promise<void> {
    const count = this.doneCounts.get(printerId) ?? 0
    const excess = count - this.deps.dedupeWindow
    // Prune in batches, not on every job.
    if (excess < Math.max(1, Math.floor(this.deps.dedupeWindow / 10))) return
    const ops: Batch = []
    const forgotten: string[] = []
    for await (const [key, jobId] of this.doneOrder.iterator({ gt: `${printerId}!`, lt: `${printerId}!~`, limit: excess })) {
      ops.push({ type: 'del', sublevel: this.doneOrder, key }, { type: 'del', sublevel: this.done, key: `${printerId}!${jobId}` })
      forgotten.push(jobId)
    }
    this.doneCounts.set(printerId, count - forgotten.length)
    await this.store.batch(ops as Array<AbstractBatchOperation<Level<string, string>, string, string>>)
    const ids = this.idsOf(printerId)
    for (const jobId of forgotten) ids.delete(jobId)
  }

  /** Group commit: writes queued in the same turn share one synced batch. */
  private commit (ops: Batch): Promise<void> {
    return new Promise((resolve, reject) => {
      this.pending.push({ ops, resolve, reject })
      if (this.flushing === undefined) {
        this.flushing = new Promise<void>((done) => setImmediate(done)).then(() => this.flushLoop())
      }
    })
  }

  private async flushLoop (): Promise<void> {
    while (this.pending.length > 0 || this.lazyDeletes.length > 0) await this.flush()
    this.flushing = undefined
  }

  private async flush (): Promise<void> {
    const group = this.pending.splice(0)
    const lazy = this.lazyDeletes.splice(0)
    // Only the promised writes need the sync; a batch of lazy deletes alone is written without one.
    const sync = group.length > 0 && (this.deps.syncWrites ?? true)
    try {
      await this.store.batch([...lazy, ...group.flatMap((g) => g.ops)] as Array<AbstractBatchOperation<Level<string, string>, string, string>>, { sync })
      if (sync) this.syncs++
      for (const g of group) g.resolve()
    } catch (error) {
      for (const g of group) g.reject(error as Error)
    }
  }
}

function jobKey (job: Pick<SpooledJob, 'printerId' | 'seq'>): string {
  return `${job.printerId}!${pad(job.seq)}`
}

function openSublevels (db: Level<string, string>) {
  return {
    jobs: db.sublevel<string, SpooledJob>('job', { valueEncoding: 'json' }),
    data: db.sublevel<string, Buffer>('data', { valueEncoding: 'buffer' }),
    done: db.sublevel<string, StoredOutcome>('done', { valueEncoding: 'json' }),
    doneOrder: db.sublevel<string, string>('doneorder', { valueEncoding: 'utf8' }),
    outbox: db.sublevel<string, OutboxEntry>('outbox', { valueEncoding: 'json' })
  }
}
