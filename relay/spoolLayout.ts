/**
 * How the relay's spool (spool.ts) lays its records out in LevelDB, and the types of what it holds: every
 * sublevel (its name on disk and its value encoding), every key and every value, written and read only through
 * this module. The first layout (Printwire 0.1's), which spoolMigration.ts converts, is described here too.
 *
 * The current layout, by sublevel (name on disk):
 * - `queue`     printerId!pad(seq) → a queued job's record: its settings and bytes (`encodeJob`)
 * - `mark`      printerId → seq of the job marked `printing` ("0": none)
 * - `progress`  printerId!pad(seq) → copies the printer confirmed before a fault
 * - `outcome`   printerId!jobId → pad(seq) + JSON StoredOutcome: a finished job's outcome (`encodeOutcome`)
 * - `acked`     printerId → seq up to which the broker has every finished job's outcome
 * - `outbox`    pad(seq) → JSON OutboxEntry: outcomes that finish no job, until the broker has them
 * - `clock`     "uptime" → ms the relay has run on this spool, across restarts (the clock jobs age on)
 * - `probe`     "written" → when the spool last wrote to check it could, after a failed write (read by nobody)
 */
import type { AbstractBatchOperation } from 'abstract-level'
import type { Level } from 'level'
import type { JobErrorMessage, JobResult } from '../protocol/index.ts'

/** A job's durable phase: `printing` from just before its first byte is written until its outcome is stored. */
export type JobPhase = 'queued' | 'printing'

/** A job the relay has taken responsibility for (its record, its `printing` mark and its progress, together). */
export interface SpooledJob {
  seq: number
  id: string
  printerId: string
  copies: number
  /** Copies already acknowledged by the printer (after a fault, only the rest is sent). */
  copiesDone: number
  expiresAt?: number
  /** Wall-clock time the relay took it in (for people; its age is measured on `spooledAtUptimeMs`). */
  receivedAt: number
  /** The spool's uptime (`JobSpool.uptimeMs()`) when the job came in: its age is the uptime since. */
  spooledAtUptimeMs: number
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
  /** The outcome of a finished job (kept for duplicates), not an outcome of its own in the outbox. */
  finishedJob?: true
}

/** A job as it is taken in: the spool gives it its seq, phase, progress and age. */
export type NewJob = Omit<SpooledJob, 'seq' | 'phase' | 'copiesDone' | 'spooledAtUptimeMs'>

/** One write of a batch, on any of the spool's sublevels (each with its own value encoding). */
export type SpoolOp = AbstractBatchOperation<Level<string, string>, string, unknown>

/** Writes `ops` as one atomic batch; `sync`: fsynced before it resolves. */
export async function writeBatch (db: Level<string, string>, ops: SpoolOp[], sync: boolean): Promise<void> {
  // abstract-level's typings tie every value to the database's own encoding; sublevel writes carry their own.
  await db.batch(ops as Array<AbstractBatchOperation<Level<string, string>, string, string>>, { sync })
}

/** A seq as it appears in keys and values: 16 digits, so that keys sort in seq order. */
export const pad = (n: number): string => n.toString().padStart(16, '0')

/** A job's key in `queue` and `progress`. */
export const jobKey = (job: Pick<SpooledJob, 'printerId' | 'seq'>): string => `${job.printerId}!${pad(job.seq)}`

export const seqOfJobKey = (key: string): number => Number(key.slice(key.indexOf('!') + 1))

/** The range of one printer's keys in `queue` and `progress`. */
export const printerRange = (printerId: string): { gt: string, lt: string } => ({ gt: `${printerId}!`, lt: `${printerId}!~` })

/** A finished job's key in `outcome`. */
export const outcomeKey = (printerId: string, jobId: string): string => `${printerId}!${jobId}`

export function parseOutcomeKey (key: string): { printerId: string, jobId: string } {
  const cut = key.indexOf('!')
  return { printerId: key.slice(0, cut), jobId: key.slice(cut + 1) }
}

/** A finished job's value in `outcome`: the seq of its outcome, then the outcome. */
export const encodeOutcome = (seq: number, outcome: StoredOutcome): string => pad(seq) + JSON.stringify(outcome)

export const seqOfOutcome = (value: string): number => Number(value.slice(0, 16))

export const decodeOutcome = (value: string): StoredOutcome => JSON.parse(value.slice(16)) as StoredOutcome

export const outboxKey = (seq: number): string => pad(seq)

export const encodeOutboxEntry = (entry: OutboxEntry): string => JSON.stringify(entry)

export const decodeOutboxEntry = (value: string): OutboxEntry => JSON.parse(value) as OutboxEntry

/** The key of the uptime clock in `clock`. */
export const UPTIME_KEY = 'uptime'

/**
 * What a queued job's record holds besides its bytes. `spooledAtUptimeMs` (the spool's uptime clock when the
 * job came in: its age is measured on that clock) is absent from records written before it existed.
 */
export type JobSettings = Pick<SpooledJob, 'id' | 'copies' | 'expiresAt' | 'receivedAt'> & { spooledAtUptimeMs?: number }

/** A queued job's record: the length of its settings (4 bytes), its settings (JSON), its bytes. */
export function encodeJob (job: JobSettings, bytes: Buffer): Buffer {
  const settings: JobSettings = { id: job.id, copies: job.copies, receivedAt: job.receivedAt }
  if (job.expiresAt !== undefined) settings.expiresAt = job.expiresAt
  if (job.spooledAtUptimeMs !== undefined) settings.spooledAtUptimeMs = job.spooledAtUptimeMs
  const head = Buffer.from(JSON.stringify(settings))
  const record = Buffer.allocUnsafe(4 + head.length + bytes.length)
  record.writeUInt32BE(head.length, 0)
  head.copy(record, 4)
  bytes.copy(record, 4 + head.length)
  return record
}

export function decodeJob (record: Buffer): { settings: JobSettings, bytes: Buffer } {
  const length = record.readUInt32BE(0)
  return { settings: JSON.parse(record.subarray(4, 4 + length).toString('utf8')) as JobSettings, bytes: record.subarray(4 + length) }
}

/** The spool's sublevels (made once: making one is not free). See the file comment for what each holds. */
export function openSublevels (db: Level<string, string>) {
  return {
    queue: db.sublevel<string, Buffer>('queue', { valueEncoding: 'buffer' }),
    mark: db.sublevel<string, string>('mark', { valueEncoding: 'utf8' }),
    progress: db.sublevel<string, string>('progress', { valueEncoding: 'utf8' }),
    /** Finished jobs' outcomes; named `outcome` on disk. */
    outcomes: db.sublevel<string, string>('outcome', { valueEncoding: 'utf8' }),
    acked: db.sublevel<string, string>('acked', { valueEncoding: 'utf8' }),
    outbox: db.sublevel<string, string>('outbox', { valueEncoding: 'utf8' }),
    /** The uptime clock; named `clock` on disk. */
    uptime: db.sublevel<string, string>('clock', { valueEncoding: 'utf8' }),
    probe: db.sublevel<string, string>('probe', { valueEncoding: 'utf8' })
  }
}

export type SpoolSublevels = ReturnType<typeof openSublevels>

/** Records the job marked `printing` for its printer (the mark is per printer), or that none is. */
export function markOp (sublevels: SpoolSublevels, job: Pick<SpooledJob, 'printerId' | 'seq' | 'phase'>): SpoolOp {
  return { type: 'put', sublevel: sublevels.mark, key: job.printerId, value: job.phase === 'printing' ? String(job.seq) : '0' }
}

/** Records the copies of a job the printer confirmed. */
export function progressOp (sublevels: SpoolSublevels, job: Pick<SpooledJob, 'printerId' | 'seq' | 'copiesDone'>): SpoolOp {
  return { type: 'put', sublevel: sublevels.progress, key: jobKey(job), value: String(job.copiesDone) }
}

/**
 * The sublevels of the first layout: a record (with its phase) and a data entry per job, outcomes as JSON with a
 * separate order index (printerId!pad(seq) → jobId). The outbox kept its layout.
 */
export function openFirstLayoutSublevels (db: Level<string, string>) {
  return {
    job: db.sublevel<string, SpooledJob>('job', { valueEncoding: 'json' }),
    data: db.sublevel<string, Buffer>('data', { valueEncoding: 'buffer' }),
    outcomes: db.sublevel<string, StoredOutcome>('done', { valueEncoding: 'json' }),
    outcomeOrder: db.sublevel<string, string>('doneorder', { valueEncoding: 'utf8' })
  }
}
