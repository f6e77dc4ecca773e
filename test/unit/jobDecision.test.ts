/**
 * relay/jobDecision.ts, table by table: every event, every attempt outcome kind, every durable phase. Pure: no
 * spool, no printer, no time.
 */
import { describe, expect, it } from 'vitest'
import { decodeStatusByte } from '../../boca/status.ts'
import { PrintwireError } from '../../protocol/index.ts'
import { decide, expiryOf, NOT_BOCA_STATUS, type Decision } from '../../relay/jobDecision.ts'
import type { AttemptOutcome } from '../../relay/printAttempt.ts'
import type { JobPhase } from '../../relay/spoolLayout.ts'

const PHASES: JobPhase[] = ['queued', 'printing']
const jam = decodeStatusByte(0x18) // paper jam: a fault of Boca's table
const spoolFull = new Error('No space left on device')
const refused = new PrintwireError('UNCERTAIN', 'job x may have printed already: it is not sent again')
const cancelled = new PrintwireError('JOB_CANCELLED', 'job x was cancelled: it is not sent')

/**
 * After an attempt, with no outage reported yet: what each outcome leads to, whatever the job's phase.
 * `acks`: tickets the attempt acknowledged.
 */
const AFTER_ATTEMPT: Array<{ name: string, outcome: AttemptOutcome, acks: number, expected: Decision }> = [
  { name: 'every ticket acknowledged', outcome: { kind: 'printed' }, acks: 2, expected: { action: 'succeed', status: 'printed' } },
  { name: 'every byte taken, no status', outcome: { kind: 'sent' }, acks: 0, expected: { action: 'succeed', status: 'sent' } },
  { name: 'no connection', outcome: { kind: 'unreachable', reason: 'ECONNREFUSED' }, acks: 0, expected: { action: 'retry', code: 'PRINTER_UNREACHABLE', requeue: true, outage: 'PRINTER_UNREACHABLE', report: true } },
  { name: 'a fault', outcome: { kind: 'fault', status: jam }, acks: 0, expected: { action: 'await-ready', code: 'PRINTER_ERROR', requeue: true, outage: jam.condition, report: true } },
  { name: 'a fault after a ticket', outcome: { kind: 'fault', status: jam }, acks: 1, expected: { action: 'await-ready', code: 'PRINTER_ERROR', requeue: true, outage: jam.condition, report: true } },
  { name: 'bytes that are not Boca status', outcome: { kind: 'foreign', bytes: Buffer.from('HTTP/1.1') }, acks: 0, expected: { action: 'await-ready', code: 'PRINTER_ERROR', requeue: true, outage: NOT_BOCA_STATUS, report: true } },
  { name: 'silence before a byte was taken', outcome: { kind: 'timeout', whileWriting: true, reason: 'took no bytes' }, acks: 0, expected: { action: 'retry', code: 'PRINTER_TIMEOUT', requeue: true, outage: 'PRINTER_TIMEOUT', report: true } },
  { name: 'silence after the bytes were taken', outcome: { kind: 'timeout', whileWriting: false, reason: 'went silent' }, acks: 0, expected: { action: 'fail', code: 'PRINTER_TIMEOUT', why: 'may-have-printed' } },
  { name: 'silence while writing, after a ticket', outcome: { kind: 'timeout', whileWriting: true, reason: 'took no bytes' }, acks: 1, expected: { action: 'fail', code: 'PRINTER_TIMEOUT', why: 'may-have-printed' } },
  { name: 'a drop before a byte was taken', outcome: { kind: 'dropped', whileWriting: true, reason: 'ECONNRESET' }, acks: 0, expected: { action: 'retry', code: 'PRINTER_UNREACHABLE', requeue: true, outage: 'PRINTER_UNREACHABLE', report: true } },
  { name: 'a drop after the bytes were taken', outcome: { kind: 'dropped', whileWriting: false, reason: 'closed' }, acks: 0, expected: { action: 'fail', code: 'UNCERTAIN', why: 'may-have-printed' } },
  { name: 'a drop while writing, after a ticket', outcome: { kind: 'dropped', whileWriting: true, reason: 'closed' }, acks: 1, expected: { action: 'fail', code: 'UNCERTAIN', why: 'may-have-printed' } },
  { name: 'the spool failed before a byte', outcome: { kind: 'local', error: spoolFull }, acks: 0, expected: { action: 'abort', error: spoolFull } },
  { name: 'a job that may have printed refused', outcome: { kind: 'local', error: refused }, acks: 0, expected: { action: 'fail', code: 'UNCERTAIN', why: 'may-have-printed' } },
  { name: 'a job cancelled just before its first byte', outcome: { kind: 'local', error: cancelled }, acks: 0, expected: { action: 'drop-cancelled' } }
]

describe('after an attempt', () => {
  it('covers every outcome kind', () => {
    const kinds: Array<AttemptOutcome['kind']> = ['printed', 'sent', 'unreachable', 'fault', 'foreign', 'timeout', 'dropped', 'local']
    expect(new Set(AFTER_ATTEMPT.map((row) => row.outcome.kind))).toEqual(new Set(kinds))
  })

  for (const phase of PHASES) {
    it.each(AFTER_ATTEMPT)(`${phase}: $name`, ({ outcome, acks, expected }) => {
      expect(decide({ event: 'attempted', phase, outcome, acks, outage: undefined })).toEqual(expected)
    })
  }

  const retried = AFTER_ATTEMPT.filter((row) => row.expected.action === 'retry' || row.expected.action === 'await-ready')
  it.each(retried)('reports $name once per outage: not again while it lasts, again when the outage changes', ({ outcome, acks }) => {
    const first = decide({ event: 'attempted', phase: 'printing', outcome, acks, outage: undefined })
    if (!('outage' in first)) throw new Error('not retried')
    expect(decide({ event: 'attempted', phase: 'printing', outcome, acks, outage: first.outage })).toMatchObject({ report: false, outage: first.outage })
    expect(decide({ event: 'attempted', phase: 'printing', outcome, acks, outage: 'another-condition' })).toMatchObject({ report: true })
  })

  it('never resends a job whose bytes the printer may have taken: no such outcome leads to a retry', () => {
    const mayHavePrinted = AFTER_ATTEMPT.filter((row) => row.outcome.kind === 'timeout' || row.outcome.kind === 'dropped')
      .filter((row) => row.acks > 0 || !('whileWriting' in row.outcome && row.outcome.whileWriting))
    expect(mayHavePrinted.length).toBeGreaterThan(0)
    for (const { outcome, acks } of mayHavePrinted) {
      for (const phase of PHASES) expect(decide({ event: 'attempted', phase, outcome, acks, outage: 'PRINTER_UNREACHABLE' }).action).toBe('fail')
    }
  })
})

describe('at its turn, before an attempt', () => {
  const TURN: Array<{ cancelled: boolean, settled: boolean, expired: string | undefined, expected: Decision }> = [
    { cancelled: false, settled: false, expired: undefined, expected: { action: 'wait-for-broker-time' } },
    { cancelled: false, settled: true, expired: undefined, expected: { action: 'print' } },
    { cancelled: false, settled: true, expired: 'expiresAt passed', expected: { action: 'fail', code: 'JOB_EXPIRED', why: 'expired' } },
    // A cancelled job leaves unprinted, whatever else holds: its cancel stored its outcome.
    { cancelled: true, settled: false, expired: undefined, expected: { action: 'drop-cancelled' } },
    { cancelled: true, settled: true, expired: undefined, expected: { action: 'drop-cancelled' } },
    { cancelled: true, settled: true, expired: 'expiresAt passed', expected: { action: 'drop-cancelled' } }
  ]
  for (const phase of PHASES) {
    it.each(TURN)(`${phase}, cancelled $cancelled, broker time settled $settled, expired $expired`, ({ cancelled, settled, expired, expected }) => {
      expect(decide({ event: 'turn', phase, cancelled, brokerTimeSettled: settled, expired })).toEqual(expected)
    })
  }
})

describe('a cancel (SPEC "No relay, cancel")', () => {
  it.each([
    { known: undefined, started: false, expected: { action: 'cancel-ahead' } },
    { known: 'queued' as const, started: false, expected: { action: 'cancel' } },
    // Marked `printing` ahead (or on arrival at an idle printer), not a byte sent yet: still cancelled.
    { known: 'printing' as const, started: false, expected: { action: 'cancel' } },
    { known: 'queued' as const, started: true, expected: { action: 'leave', why: 'started' } },
    { known: 'printing' as const, started: true, expected: { action: 'leave', why: 'started' } },
    { known: 'done' as const, started: false, expected: { action: 'leave', why: 'finished' } },
    { known: 'done' as const, started: true, expected: { action: 'leave', why: 'finished' } }
  ])('known $known, started $started: $expected.action', ({ known, started, expected }) => {
    expect(decide({ event: 'cancel', known, started })).toEqual(expected)
  })
})

describe('found in the spool at start', () => {
  it.each([
    { phase: 'queued' as const, expected: { action: 'enqueue' } },
    { phase: 'printing' as const, expected: { action: 'fail', code: 'UNCERTAIN', why: 'resumed-printing' } }
  ])('$phase', ({ phase, expected }) => {
    expect(decide({ event: 'resumed', phase })).toEqual(expected)
  })
})

describe('a job id arriving', () => {
  it.each([
    { known: undefined, retained: false, action: 'take' },
    { known: undefined, retained: true, action: 'refuse-retained' },
    { known: 'queued' as const, retained: false, action: 'ignore' },
    { known: 'queued' as const, retained: true, action: 'ignore' },
    { known: 'printing' as const, retained: false, action: 'ignore' },
    { known: 'printing' as const, retained: true, action: 'ignore' },
    { known: 'done' as const, retained: false, action: 'answer-stored' },
    { known: 'done' as const, retained: true, action: 'answer-stored' }
  ])('known $known, retained $retained: $action', ({ known, retained, action }) => {
    expect(decide({ event: 'arrived', known, retained })).toEqual({ action })
  })
})

describe('expiry', () => {
  const AT = Date.parse('2026-11-30T10:00:00Z')
  it.each([
    { name: 'no limit at all', job: { spooledAtUptimeMs: 0 }, brokerNow: AT, uptimeMs: 10 * 3_600_000, maxAgeS: 0, expired: undefined },
    { name: 'expiresAt not yet passed', job: { expiresAt: AT + 1, spooledAtUptimeMs: 0 }, brokerNow: AT, uptimeMs: 0, maxAgeS: 0, expired: undefined },
    { name: 'expiresAt just reached', job: { expiresAt: AT, spooledAtUptimeMs: 0 }, brokerNow: AT, uptimeMs: 0, maxAgeS: 0, expired: undefined },
    { name: 'expiresAt passed', job: { expiresAt: AT - 1, spooledAtUptimeMs: 0 }, brokerNow: AT, uptimeMs: 0, maxAgeS: 0, expired: 'by the broker\'s clock' },
    { name: 'JOB_MAX_AGE just reached', job: { spooledAtUptimeMs: 500 }, brokerNow: AT, uptimeMs: 60_500, maxAgeS: 60, expired: undefined },
    { name: 'JOB_MAX_AGE passed', job: { spooledAtUptimeMs: 500 }, brokerNow: AT, uptimeMs: 60_501, maxAgeS: 60, expired: 'JOB_MAX_AGE (60 s)' },
    { name: 'JOB_MAX_AGE passed, stamped before the uptime clock began', job: { spooledAtUptimeMs: -59_000 }, brokerNow: AT, uptimeMs: 1001, maxAgeS: 60, expired: 'JOB_MAX_AGE (60 s)' }
  ])('$name', ({ job, brokerNow, uptimeMs, maxAgeS, expired }) => {
    const reason = expiryOf(job, { brokerNow: () => brokerNow, brokerTimeKnown: true, uptimeMs }, maxAgeS)
    if (expired === undefined) expect(reason).toBeUndefined()
    else expect(reason).toContain(expired)
  })

  it('reads the broker\'s time only for a job with expiresAt, and says when it was the relay\'s own', () => {
    let reads = 0
    const brokerNow = (): number => { reads++; return AT }
    expect(expiryOf({ spooledAtUptimeMs: 0 }, { brokerNow, brokerTimeKnown: false, uptimeMs: 0 }, 60)).toBeUndefined()
    expect(reads).toBe(0)
    expect(expiryOf({ expiresAt: AT - 1, spooledAtUptimeMs: 0 }, { brokerNow, brokerTimeKnown: false, uptimeMs: 0 }, 60)).toContain('which the relay has not heard yet: by its own')
  })
})
