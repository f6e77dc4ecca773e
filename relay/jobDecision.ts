/**
 * What a printer's worker does next with a job: a pure function of the situation (what just happened to the
 * job, its durable phase, whether it may still print, and what this outage has already reported). No I/O and no
 * timers: printerWorker.ts gathers the situation, asks, and carries the decision out (jobPhases.ts writes the
 * phase changes it implies).
 *
 * The rules, in one place:
 * - A job id already finished is answered with its stored outcome; one still queued is not queued twice; a job
 *   delivered as a retained message is never printed from there.
 * - A job found on disk still marked `printing` may have printed: it ends `UNCERTAIN`, never resent.
 * - A cancel (SPEC "No relay, cancel"): a queued job that has not started printing (no byte of it may have reached
 *   the printer, no copy of it printed, no outcome being stored) ends `JOB_CANCELLED`; an id not known yet is
 *   remembered as `JOB_CANCELLED`, so the job is answered so when it arrives; a job started or finished is left.
 * - Before each attempt: a cancelled job leaves the queue unprinted; a job with `expiresAt` waits for the broker's time; an expired job ends `JOB_EXPIRED`.
 * - After an attempt: every ticket acknowledged, or every byte taken by a printer that reports nothing, ends it
 *   `printed` / `sent`. Nothing printed beyond the acknowledged tickets (no connection, a fault, bytes that are not
 *   Boca status, or a drop or silence before any byte was taken) puts it back to `queued` and retries it, its error
 *   reported once per outage. Anything else may have printed: it ends `PRINTER_TIMEOUT` (silence) or `UNCERTAIN`
 *   (a drop), never resent.
 */
import { PrintwireError, type ErrorCode } from '../protocol/index.ts'
import type { AttemptOutcome } from './printAttempt.ts'
import type { JobPhase, SpooledJob } from './spoolLayout.ts'


export type JobSituation =
  /**
   * A job delivered with an id: `known`, what the printer's spool knows of that id (`done`: finished, its outcome
   * stored; undefined: nothing); `retained`, delivered from the broker's retained messages.
   */
  | { event: 'arrived', known: JobPhase | 'done' | undefined, retained: boolean }
  /** Found in the spool at start. */
  | { event: 'resumed', phase: JobPhase }
  /**
   * A cancel for a job id: `known`, what the printer's spool knows of it (as for `arrived`); `started`, whether
   * printing it has begun (a byte may have reached the printer, a copy printed, or its outcome is being stored).
   */
  | { event: 'cancel', known: JobPhase | 'done' | undefined, started: boolean }
  /**
   * At the head of the queue, before an attempt; `cancelled`: its cancel is on disk; `expired`: why it must not
   * print any more, if it must not.
   */
  | { event: 'turn', phase: JobPhase, cancelled: boolean, brokerTimeSettled: boolean, expired: string | undefined }
  /** An attempt ended; `acks`, tickets it acknowledged; `outage`, what this run of failures has reported. */
  | { event: 'attempted', phase: JobPhase, outcome: AttemptOutcome, acks: number, outage: string | undefined }

/** Retried until the printer is back: the condition of the outage (reported once), the printer's state meanwhile. */
interface Retry {
  /** Back to `queued`, keeping the copies acknowledged so far: nothing else of it printed. */
  requeue: true
  /** What this outage is (a code, or a fault condition): reported only when it differs from the last one reported. */
  outage: string
  report: boolean
}

export type Decision =
  /** A new job: taken in (spooled, then queued). */
  | { action: 'take' }
  /** A duplicate of a job still queued or printing: nothing to do, its outcome comes when it finishes. */
  | { action: 'ignore' }
  /** A duplicate of a finished job: answered with the outcome stored for it, never printed again. */
  | { action: 'answer-stored' }
  /** A retained job with no outcome here: not printed (every new relay session would get it again), refused. */
  | { action: 'refuse-retained' }
  /** A cancel of a job that has not started printing: it ends `JOB_CANCELLED` (stored), and leaves the queue. */
  | { action: 'cancel' }
  /** A cancel of a job id not known here: `JOB_CANCELLED` is stored as its outcome, so the job is answered so when it arrives. */
  | { action: 'cancel-ahead' }
  /** A cancel that comes too late: the job has started printing, or is finished. Not touched. */
  | { action: 'leave', why: 'started' | 'finished' }
  /** A cancelled job (its outcome stored by the cancel) at its turn: it leaves the queue, never printed. */
  | { action: 'drop-cancelled' }
  | { action: 'enqueue' }
  | { action: 'wait-for-broker-time' }
  | { action: 'print' }
  /** The job printed (or every byte was taken): its result is published. */
  | { action: 'succeed', status: 'printed' | 'sent' }
  /** The job's last word: a final error, not retryable; it is never sent again. */
  | { action: 'fail', code: Extract<ErrorCode, 'UNCERTAIN' | 'JOB_EXPIRED' | 'PRINTER_TIMEOUT'>, why: 'resumed-printing' | 'expired' | 'may-have-printed' }
  /** The printer cannot be reached, or took nothing: wait (backoff) and try again; state `unreachable`. */
  | ({ action: 'retry', code: Extract<ErrorCode, 'PRINTER_UNREACHABLE' | 'PRINTER_TIMEOUT'> } & Retry)
  /** The printer reported a fault or spoke no Boca status: ask it until it is ready, then try again; state `error`. */
  | ({ action: 'await-ready', code: Extract<ErrorCode, 'PRINTER_ERROR'> } & Retry)
  /** The relay itself failed before a byte went out (its spool): the worker waits for the spool and tries again. */
  | { action: 'abort', error: Error }

export function decide (situation: JobSituation): Decision {
  switch (situation.event) {
    case 'arrived':
      if (situation.known === 'done') return { action: 'answer-stored' }
      if (situation.known !== undefined) return { action: 'ignore' }
      return situation.retained ? { action: 'refuse-retained' } : { action: 'take' }
    case 'cancel':
      if (situation.known === 'done') return { action: 'leave', why: 'finished' }
      if (situation.started) return { action: 'leave', why: 'started' }
      return situation.known === undefined ? { action: 'cancel-ahead' } : { action: 'cancel' }
    case 'resumed':
      return situation.phase === 'printing' ? { action: 'fail', code: 'UNCERTAIN', why: 'resumed-printing' } : { action: 'enqueue' }
    case 'turn':
      if (situation.cancelled) return { action: 'drop-cancelled' }
      if (!situation.brokerTimeSettled) return { action: 'wait-for-broker-time' }
      if (situation.expired !== undefined) return { action: 'fail', code: 'JOB_EXPIRED', why: 'expired' }
      return { action: 'print' }
    case 'attempted':
      return afterAttempt(situation.outcome, situation.acks, situation.outage)
  }
}

function afterAttempt (outcome: AttemptOutcome, acks: number, outage: string | undefined): Decision {
  switch (outcome.kind) {
    case 'printed':
    case 'sent':
      return { action: 'succeed', status: outcome.kind }
    case 'local':
      // The one refusal that is not the spool's: jobPhases.ts would not send a job that may have printed.
      if (outcome.error instanceof PrintwireError && outcome.error.code === 'UNCERTAIN') return { action: 'fail', code: 'UNCERTAIN', why: 'may-have-printed' }
      // Cancelled just before its first byte (jobPhases.ts `beforeSend`): nothing was sent.
      if (outcome.error instanceof PrintwireError && outcome.error.code === 'JOB_CANCELLED') return { action: 'drop-cancelled' }
      return { action: 'abort', error: outcome.error }
    case 'fault':
    case 'foreign': {
      const condition = outcome.kind === 'fault' ? outcome.status.condition : NOT_BOCA_STATUS
      return { action: 'await-ready', code: 'PRINTER_ERROR', requeue: true, outage: condition, report: outage !== condition }
    }
    case 'unreachable':
    case 'timeout':
    case 'dropped': {
      const code = outcome.kind === 'timeout' ? 'PRINTER_TIMEOUT' : 'PRINTER_UNREACHABLE'
      if (tookNothing(outcome, acks)) return { action: 'retry', code, requeue: true, outage: code, report: outage !== code }
      // The printer took bytes, then went silent or dropped the connection: it may have printed.
      return { action: 'fail', code: outcome.kind === 'timeout' ? 'PRINTER_TIMEOUT' : 'UNCERTAIN', why: 'may-have-printed' }
    }
  }
}

/** The fault condition of a device that answers with bytes that are not Boca status. */
export const NOT_BOCA_STATUS = 'not-boca-status'

/** No ticket acknowledged, and no connection, or no byte taken before the drop or silence. */
function tookNothing (outcome: Extract<AttemptOutcome, { kind: 'unreachable' | 'timeout' | 'dropped' }>, acks: number): boolean {
  return acks === 0 && (outcome.kind === 'unreachable' || outcome.whileWriting)
}

/** The times a job's expiry is judged by. */
export interface ExpiryTimes {
  /** The broker's time now (read only for a job with `expiresAt`). */
  brokerNow: () => number
  /** The broker's time has been heard; otherwise `brokerNow` is the relay's own clock. */
  brokerTimeKnown: boolean
  /** The spool's uptime clock now (monotonic, kept across restarts): a job's age is measured on it. */
  uptimeMs: number
}

/**
 * Why a job must not print any more, or undefined while it may: `expiresAt` passed by the broker's clock, or the
 * job waited more than `jobMaxAgeS` (JOB_MAX_AGE; 0: no limit) on the spool's uptime clock.
 */
export function expiryOf (job: Pick<SpooledJob, 'expiresAt' | 'spooledAtUptimeMs'>, times: ExpiryTimes, jobMaxAgeS: number): string | undefined {
  if (job.expiresAt !== undefined && times.brokerNow() > job.expiresAt) {
    return `the job expired at ${new Date(job.expiresAt).toISOString()} (by the broker's clock${times.brokerTimeKnown ? '' : ', which the relay has not heard yet: by its own'}) before the printer could print it`
  }
  if (jobMaxAgeS > 0 && times.uptimeMs - job.spooledAtUptimeMs > jobMaxAgeS * 1000) return `the job waited longer than JOB_MAX_AGE (${jobMaxAgeS} s) for the printer`
  return undefined
}
