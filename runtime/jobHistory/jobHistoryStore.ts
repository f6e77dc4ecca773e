/**
 * Where the job history is kept (protocol/jobHistory.ts says what it holds): in memory, in a LevelDB (the
 * broker's, or the web server's own in Mosquitto mode), or in Redis (broker/redisJobHistory.ts). Every store
 * keeps a job JOB_HISTORY_DAYS from when it first saw it and at most JOB_HISTORY_PER_PRINTER jobs per printer
 * (the oldest go first), with a bounded amount of clean-up work per write: never a scan of everything.
 */
import type { JobEvent, JobHistoryReader } from '../../protocol/jobHistory.ts'

export interface JobHistoryLimits {
  /** How long a job is kept, from when it was first seen (ms). */
  retentionMs: number
  /** Jobs kept per printer; the oldest beyond it are dropped. */
  perPrinter: number
}

export const DAY_MS = 24 * 60 * 60 * 1000

export function historyLimits (config: { JOB_HISTORY_DAYS: number, JOB_HISTORY_PER_PRINTER: number }): JobHistoryLimits {
  return { retentionMs: config.JOB_HISTORY_DAYS * DAY_MS, perPrinter: config.JOB_HISTORY_PER_PRINTER }
}

/** Expired jobs removed at most per write (the rest by the next writes, or their TTL with Redis). */
export const EXPIRED_REMOVED_PER_WRITE = 32

export interface JobHistoryStore extends JobHistoryReader {
  /** Adds what one message says about one job. Events of one job are applied in the order given. */
  apply(event: JobEvent): Promise<void>
}

/** Epoch milliseconds; injected so tests can move time. */
export type Now = () => number

/** Fixed-width decimal epoch ms, so that keys sort by time. */
export function timeKey (ms: number): string {
  return Math.max(0, Math.floor(ms)).toString().padStart(16, '0')
}
