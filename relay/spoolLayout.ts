/**
 * How the relay's spool lays its records out in LevelDB (see spool.ts): the sublevels, the keys, and a
 * queued job's record.
 */
import type { AbstractBatchOperation } from 'abstract-level'
import type { Level } from 'level'
import type { JobErrorMessage, JobResult } from '../protocol/index.ts'

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

export const pad = (n: number): string => n.toString().padStart(16, '0')

export const jobKey = (job: Pick<SpooledJob, 'printerId' | 'seq'>): string => `${job.printerId}!${pad(job.seq)}`

export const seqOfKey = (key: string): number => Number(key.slice(key.indexOf('!') + 1))

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

export const UPTIME_KEY = 'uptime'

/** The spool's sublevels (made once: making one is not free). */
export function openSublevels (db: Level<string, string>) {
  return {
    /** printerId!seq → encodeJob(settings, bytes) */
    queue: db.sublevel<string, Buffer>('queue', { valueEncoding: 'buffer' }),
    /** printerId → seq of the job marked printing ("0": none) */
    mark: db.sublevel<string, string>('mark', { valueEncoding: 'utf8' }),
    /** printerId!seq → copies confirmed before a fault */
    progress: db.sublevel<string, string>('progress', { valueEncoding: 'utf8' }),
    /** printerId!jobId → pad(seq) + JSON outcome */
    done: db.sublevel<string, string>('outcome', { valueEncoding: 'utf8' }),
    /** printerId → seq up to which the broker has every finished job's outcome */
    acked: db.sublevel<string, string>('acked', { valueEncoding: 'utf8' }),
    /** pad(seq) → JSON OutboxEntry (outcomes that finish no job) */
    outbox: db.sublevel<string, string>('outbox', { valueEncoding: 'utf8' }),
    /** UPTIME_KEY → ms the relay has run on this spool, across restarts (the clock jobs age on) */
    clock: db.sublevel<string, string>('clock', { valueEncoding: 'utf8' }),
    /** "written" → when the spool last wrote to check it could, after a failed write (read by nobody) */
    probe: db.sublevel<string, string>('probe', { valueEncoding: 'utf8' })
  }
}

export type SpoolSublevels = ReturnType<typeof openSublevels>
