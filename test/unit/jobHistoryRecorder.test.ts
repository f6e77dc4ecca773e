/**
 * runtime/jobHistory/jobHistoryRecorder.ts: which messages become which history events, in order per job, and
 * that a failing or stuck store never makes `observe` throw or wait.
 */
import { Writable } from 'node:stream'
import { pino } from 'pino'
import { describe, expect, it } from 'vitest'
import type { JobEvent } from '../../protocol/jobHistory.ts'
import { JobHistoryRecorder } from '../../runtime/jobHistory/jobHistoryRecorder.ts'
import { DAY_MS, type JobHistoryStore } from '../../runtime/jobHistory/jobHistoryStore.ts'
import { MemoryJobHistory } from '../../runtime/jobHistory/memoryJobHistory.ts'
import { ManualClock } from './jobHistoryContract.ts'

/** A pino logger whose lines the test reads. */
function captureLog (level: string): { logger: pino.Logger, entries: () => Array<Record<string, unknown>> } {
  const lines: string[] = []
  const sink = new Writable({ write (chunk: Buffer, _encoding, done) { lines.push(...chunk.toString().split('\n').filter((line) => line !== '')); done() } })
  return { logger: pino({ level }, sink), entries: () => lines.map((line) => JSON.parse(line) as Record<string, unknown>) }
}

const LIMITS = { retentionMs: 7 * DAY_MS, perPrinter: 100 }

function recorderWith (store: JobHistoryStore, options: { maxPending?: number } = {}): { recorder: JobHistoryRecorder, clock: ManualClock, log: ReturnType<typeof captureLog> } {
  const clock = new ManualClock()
  const log = captureLog('debug')
  const recorder = new JobHistoryRecorder({ store, topicPrefix: 'venue/printers', logger: log.logger, now: clock.now, ...options })
  return { recorder, clock, log }
}

const ALICE = { user: 'alice' }
const json = (value: unknown): Buffer => Buffer.from(JSON.stringify(value))

describe('job history recorder', () => {
  it('records jobs, results, errors and cancel requests from their topics, and nothing else', async () => {
    const store = new MemoryJobHistory({ limits: LIMITS })
    const { recorder, clock } = recorderWith(store)
    recorder.observe('venue/printers/lobby/jobs', json({ id: 'e-1', data: 'hi' }), ALICE)
    recorder.observe('venue/printers/lobby/jobs', json({ id: 'e-2', data: 'hi' }), ALICE)
    recorder.observe('venue/printers/lobby/jobs', json({ id: 'e-3', data: 'hi' }), { user: null, anonymous: true })
    // A raw job has no id yet; the relay's result names the one it made.
    recorder.observe('venue/printers/lobby/jobs', '<RC10,10>hello<p>', ALICE)
    recorder.observe('venue/printers/lobby/responses', json({ jobId: 'relay-abc', printerId: 'lobby', status: 'sent', bytes: 3, durationMs: 1, printer: {}, at: 'x' }), { user: 'relay-lobby' })
    recorder.observe('venue/printers/lobby/errors', json({ jobId: 'e-1', printerId: 'lobby', code: 'PRINTER_UNREACHABLE', message: 'down', retryable: true, at: 'x' }), { user: 'relay-lobby' })
    recorder.observe('venue/printers/lobby/responses', json({ jobId: 'e-1', printerId: 'lobby', status: 'printed', bytes: 2, durationMs: 1, printer: {}, at: 'x' }), { user: 'relay-lobby' })
    recorder.observe('venue/printers/lobby/cancel', json({ jobId: 'e-2' }), { user: 'bob' })
    recorder.observe('venue/printers/lobby/errors', json({ jobId: 'e-2', printerId: 'lobby', code: 'JOB_CANCELLED', message: 'cancelled', retryable: false, at: 'x' }), { user: 'relay-lobby' })
    // Not about a job: a printer's error, the status, other prefixes and topics, malformed payloads.
    recorder.observe('venue/printers/lobby/errors', json({ printerId: 'lobby', code: 'PRINTER_ERROR', message: 'jam', retryable: true, at: 'x' }), { user: 'relay-lobby' })
    recorder.observe('venue/printers/lobby/status', json({ jobId: 'status-1', printerId: 'lobby', state: 'online', relayId: 'r', at: 'x' }), { user: 'relay-lobby' })
    recorder.observe('printers/lobby/jobs', json({ id: 'other-prefix', data: 'x' }), ALICE)
    recorder.observe('venue/printersX/lobby/jobs', json({ id: 'other-prefix-2', data: 'x' }), ALICE)
    recorder.observe('venue/printers/lobby/jobs/extra', json({ id: 'deeper', data: 'x' }), ALICE)
    recorder.observe('venue/printers/bad id/jobs', json({ id: 'bad-printer', data: 'x' }), ALICE)
    recorder.observe('venue/printers/lobby/responses', '{not json', { user: 'relay-lobby' })
    recorder.observe('venue/printers/lobby/cancel', 'null', ALICE)
    recorder.observe('venue/printers/lobby/cancel', json({ jobId: 'bad id!' }), ALICE)
    recorder.observe('venue/printers/lobby/responses', json({ jobId: 'bad id!', printerId: 'lobby', status: 'printed', bytes: 2, durationMs: 1, printer: {}, at: 'x' }), { user: 'relay-lobby' })
    await recorder.idle()
    const seen = await store.list({ limit: 100 })
    expect(seen.map((r) => [r.jobId, r.state, r.user]).sort()).toEqual([
      ['e-1', 'printed', 'alice'], ['e-2', 'cancelled', 'alice'], ['e-3', 'pending', null], ['relay-abc', 'sent', null]
    ])
    expect(await store.get('e-1')).toMatchObject({ publishedAt: new Date(clock.time).toISOString(), retryableErrorCount: 1, retryableErrors: [{ code: 'PRINTER_UNREACHABLE', message: 'down' }] })
    expect(await store.get('e-2')).toMatchObject({ cancelRequested: { user: 'bob' }, error: { code: 'JOB_CANCELLED' } })
    expect(await store.get('e-3')).toMatchObject({ user: null, anonymous: true })
  })

  it('writes one job\'s events in the order observed, even when the store answers out of order', async () => {
    const memory = new MemoryJobHistory({ limits: LIMITS })
    const applied: string[] = []
    // The first write of each job is slow: the next must still wait for it.
    const slowFirst = new Set<string>()
    const store: JobHistoryStore = {
      apply: async (event: JobEvent) => {
        const key = event.kind === 'published' ? event.jobId : event.kind === 'result' ? event.result.jobId : ''
        if (!slowFirst.has(key)) {
          slowFirst.add(key)
          await new Promise((resolve) => setTimeout(resolve, 30))
        }
        applied.push(`${key}:${event.kind}`)
        await memory.apply(event)
      },
      get: (id) => memory.get(id),
      list: (query) => memory.list(query)
    }
    const { recorder } = recorderWith(store)
    recorder.observe('venue/printers/lobby/jobs', json({ id: 'o-1', data: 'x' }), ALICE)
    recorder.observe('venue/printers/lobby/responses', json({ jobId: 'o-1', printerId: 'lobby', status: 'printed', bytes: 1, durationMs: 1, printer: {}, at: 'x' }), { user: null })
    await recorder.idle()
    expect(applied).toEqual(['o-1:published', 'o-1:result'])
    expect((await memory.get('o-1'))?.state).toBe('printed')
  })

  it('never throws or waits for a failing or stuck store: it logs, and goes on', async () => {
    let calls = 0
    const failing: JobHistoryStore = {
      apply: async () => { calls += 1; throw new Error('disk gone') },
      get: async () => undefined,
      list: async () => []
    }
    const { recorder, log } = recorderWith(failing)
    expect(() => recorder.observe('venue/printers/lobby/jobs', json({ id: 'f-1', data: 'x' }), ALICE)).not.toThrow()
    recorder.observe('venue/printers/lobby/jobs', json({ id: 'f-2', data: 'x' }), ALICE)
    await recorder.idle()
    expect(calls).toBe(2)
    expect(log.entries().some((entry) => String(entry.msg).includes('could not record') && JSON.stringify(entry).includes('disk gone'))).toBe(true)

    // A store that never answers: observe still returns at once; beyond maxPending, messages are dropped and counted.
    const stuck: JobHistoryStore = { apply: () => new Promise(() => {}), get: async () => undefined, list: async () => [] }
    const second = recorderWith(stuck, { maxPending: 3 })
    for (let i = 0; i < 10; i++) second.recorder.observe('venue/printers/lobby/jobs', json({ id: `s-${i}`, data: 'x' }), ALICE)
    expect(second.log.entries().some((entry) => String(entry.msg).includes('behind') && entry.dropped === 1)).toBe(true)
  })
})
