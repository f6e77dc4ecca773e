/**
 * What every job history store must do (runtime/jobHistory/jobHistoryStore.ts), run against each: memory and
 * LevelDB in test/unit/jobHistoryStores.test.ts, Redis in test/integration/jobHistoryRedis.test.ts. Time is a
 * fake clock the suite moves.
 */
import { describe, expect, it } from 'vitest'
import type { ErrorCode, JobResult } from '../../protocol/index.ts'
import { MAX_RETRYABLE_ERRORS_KEPT, type JobEvent } from '../../protocol/jobHistory.ts'
import { DAY_MS, type JobHistoryLimits, type JobHistoryStore } from '../../runtime/jobHistory/jobHistoryStore.ts'

export interface StoreUnderTest {
  store: JobHistoryStore
  /** The same data opened again (a restart); undefined for a store that keeps nothing. */
  reopen?: () => Promise<JobHistoryStore>
}

export type MakeStore = (limits: JobHistoryLimits, now: () => number) => Promise<StoreUnderTest>

export const T0 = Date.parse('2026-11-30T10:00:00Z')

export class ManualClock {
  time = T0
  readonly now = (): number => this.time
  advance (ms: number): number {
    this.time += ms
    return this.time
  }
}

export const published = (jobId: string, seenAt: number, printerId = 'lobby', user: string | null = 'alice'): JobEvent =>
  ({ kind: 'published', jobId, printerId, publisher: { user }, seenAt })

export const result = (jobId: string, seenAt: number, status: 'printed' | 'sent' = 'printed', printerId = 'lobby'): JobEvent => {
  const payload: JobResult = { jobId, printerId, status, bytes: 42, durationMs: 7, printer: { acks: 1, expectedAcks: 1, statusBytes: ['0x06'], condition: 'ticket-ack' }, at: new Date(seenAt).toISOString() }
  return { kind: 'result', result: payload, seenAt }
}

export const error = (jobId: string, seenAt: number, code: ErrorCode, retryable: boolean, printerId = 'lobby'): JobEvent =>
  ({ kind: 'error', error: { jobId, printerId, code, message: `${code} for ${jobId}`, retryable, at: new Date(seenAt).toISOString() }, seenAt })

const LIMITS: JobHistoryLimits = { retentionMs: 7 * DAY_MS, perPrinter: 10_000 }

/** `persists`: the store keeps its data across a restart (`make` then gives `reopen`). */
export function describeJobHistoryStore (name: string, make: MakeStore, options: { persists: boolean }): void {
  describe(`job history store: ${name}`, () => {
    it('keeps a job id to the printer it was first seen on: another printer\'s events under it are neither merged nor listed', async () => {
      const clock = new ManualClock()
      const { store } = await make(LIMITS, clock.now)
      // bob uses the id first on bar (refused NO_RELAY there); alice's job with that id then prints on lobby.
      await store.apply(published('order-77-1', clock.time, 'bar', 'bob'))
      await store.apply(error('order-77-1', clock.advance(10), 'NO_RELAY', false, 'bar'))
      await store.apply(published('order-77-1', clock.advance(10), 'lobby', 'alice'))
      await store.apply(error('order-77-1', clock.advance(10), 'PRINTER_UNREACHABLE', true, 'lobby'))
      await store.apply({ kind: 'cancelRequested', jobId: 'order-77-1', printerId: 'lobby', publisher: { user: 'alice' }, seenAt: clock.advance(10) })
      await store.apply(result('order-77-1', clock.advance(10), 'printed', 'lobby'))
      const record = await store.get('order-77-1')
      expect(record).toMatchObject({ printerId: 'bar', user: 'bob', state: 'failed', error: { code: 'NO_RELAY' }, retryableErrors: [], retryableErrorCount: 0 })
      expect(record?.cancelRequested).toBeUndefined()
      expect(JSON.stringify(record)).not.toContain('lobby')
      expect(await store.list({ printerId: 'lobby', limit: 10 })).toEqual([])
      expect((await store.list({ printerId: 'bar', limit: 10 })).map((r) => r.jobId)).toEqual(['order-77-1'])
    })

    it('follows a job through pending to printed, with who published it and when', async () => {
      const clock = new ManualClock()
      const { store } = await make(LIMITS, clock.now)
      await store.apply(published('t-1', clock.time))
      expect(await store.get('t-1')).toEqual({
        jobId: 't-1', printerId: 'lobby', user: 'alice', publishedAt: new Date(T0).toISOString(), state: 'pending', retryableErrors: [], retryableErrorCount: 0
      })
      const done = clock.advance(1500)
      await store.apply(result('t-1', done))
      const record = await store.get('t-1')
      expect(record).toMatchObject({ state: 'printed', user: 'alice', publishedAt: new Date(T0).toISOString(), finishedAt: new Date(done).toISOString() })
      expect(record?.result).toMatchObject({ jobId: 't-1', status: 'printed', bytes: 42 })
      expect(record?.error).toBeUndefined()
      expect(await store.get('unknown')).toBeUndefined()
    })

    it('is failed with its final error; cancelled by JOB_CANCELLED; failed by NO_RELAY; sent when not confirmed', async () => {
      const clock = new ManualClock()
      const { store } = await make(LIMITS, clock.now)
      for (const id of ['expired', 'cancelled', 'no-relay', 'sent']) await store.apply(published(id, clock.time))
      const at = clock.advance(10)
      await store.apply(error('expired', at, 'JOB_EXPIRED', false))
      await store.apply({ kind: 'cancelRequested', jobId: 'cancelled', printerId: 'lobby', publisher: { user: 'bob' }, seenAt: at })
      expect((await store.get('cancelled'))?.state).toBe('pending')
      await store.apply(error('cancelled', clock.advance(5), 'JOB_CANCELLED', false))
      await store.apply(error('no-relay', clock.time, 'NO_RELAY', false))
      await store.apply(result('sent', clock.time, 'sent'))
      expect(await store.get('expired')).toMatchObject({ state: 'failed', error: { code: 'JOB_EXPIRED', message: 'JOB_EXPIRED for expired' } })
      expect(await store.get('cancelled')).toMatchObject({ state: 'cancelled', error: { code: 'JOB_CANCELLED' }, cancelRequested: { at: new Date(at).toISOString(), user: 'bob' } })
      expect(await store.get('no-relay')).toMatchObject({ state: 'failed', error: { code: 'NO_RELAY' } })
      expect(await store.get('sent')).toMatchObject({ state: 'sent', result: { status: 'sent' } })
    })

    it('lists the retryable errors seen (the latest ones, all counted), then the result', async () => {
      const clock = new ManualClock()
      const { store } = await make(LIMITS, clock.now)
      await store.apply(published('t-2', clock.time))
      const total = MAX_RETRYABLE_ERRORS_KEPT + 5
      for (let i = 0; i < total; i++) await store.apply(error('t-2', clock.advance(1000), i % 2 === 0 ? 'PRINTER_UNREACHABLE' : 'PRINTER_ERROR', true))
      const waiting = await store.get('t-2')
      expect(waiting?.state).toBe('pending')
      expect(waiting?.retryableErrorCount).toBe(total)
      expect(waiting?.retryableErrors).toHaveLength(MAX_RETRYABLE_ERRORS_KEPT)
      // The latest, oldest first.
      expect(waiting?.retryableErrors.at(-1)?.at).toBe(new Date(clock.time).toISOString())
      expect(waiting?.retryableErrors[0]?.at).toBe(new Date(T0 + 6000).toISOString())
      await store.apply(result('t-2', clock.advance(1000)))
      expect(await store.get('t-2')).toMatchObject({ state: 'printed', retryableErrorCount: total })
    })

    it('is pending again when published again after its outcome, not when the outcome was seen after the publish', async () => {
      const clock = new ManualClock()
      const { store } = await make(LIMITS, clock.now)
      await store.apply(published('again', clock.time))
      await store.apply(error('again', clock.advance(10), 'NO_RELAY', false))
      await store.apply(published('again', clock.advance(10)))
      expect(await store.get('again')).toMatchObject({ state: 'pending', publishedAt: new Date(T0).toISOString() })
      expect((await store.get('again'))?.error).toBeUndefined()
      // Two broker instances: the result is written before the publish it answers.
      await store.apply(result('late-publish', clock.advance(10)))
      await store.apply(published('late-publish', clock.time - 5))
      expect(await store.get('late-publish')).toMatchObject({ state: 'printed', user: 'alice' })
      // A raw job: only its result is seen.
      await store.apply(result('relay-made', clock.time))
      expect(await store.get('relay-made')).toMatchObject({ state: 'printed', user: null, publishedAt: null })
    })

    it(`keeps a job ${LIMITS.retentionMs / DAY_MS} days (JOB_HISTORY_DAYS), then forgets it`, async () => {
      const clock = new ManualClock()
      const { store } = await make(LIMITS, clock.now)
      await store.apply(published('old', clock.time))
      await store.apply(result('old', clock.advance(1000)))
      clock.advance(LIMITS.retentionMs - 1000)
      expect((await store.get('old'))?.state).toBe('printed')
      expect((await store.list({ limit: 10 })).map((r) => r.jobId)).toEqual(['old'])
      clock.advance(1)
      expect(await store.get('old')).toBeUndefined()
      expect(await store.list({ limit: 10 })).toEqual([])
      expect(await store.list({ printerId: 'lobby', limit: 10 })).toEqual([])
      // Later writes clean it up; the same id used again is a new job.
      await store.apply(published('new', clock.time))
      await store.apply(published('old', clock.time, 'lobby', 'bob'))
      expect(await store.get('old')).toMatchObject({ state: 'pending', user: 'bob', retryableErrorCount: 0 })
      expect((await store.list({ limit: 10 })).map((r) => r.jobId).sort()).toEqual(['new', 'old'])
    })

    it('keeps at most JOB_HISTORY_PER_PRINTER jobs per printer, dropping the oldest', async () => {
      const clock = new ManualClock()
      const { store } = await make({ ...LIMITS, perPrinter: 3 }, clock.now)
      for (let i = 1; i <= 5; i++) await store.apply(published(`lobby-${i}`, clock.advance(1000)))
      for (let i = 1; i <= 2; i++) await store.apply(published(`bar-${i}`, clock.advance(1000), 'bar'))
      // A later event of a kept job does not count it twice.
      await store.apply(result('lobby-5', clock.advance(1000)))
      expect((await store.list({ printerId: 'lobby', limit: 10 })).map((r) => r.jobId)).toEqual(['lobby-5', 'lobby-4', 'lobby-3'])
      expect(await store.get('lobby-1')).toBeUndefined()
      expect(await store.get('lobby-2')).toBeUndefined()
      expect((await store.list({ printerId: 'bar', limit: 10 })).map((r) => r.jobId)).toEqual(['bar-2', 'bar-1'])
      expect((await store.list({ limit: 10 })).map((r) => r.jobId)).toEqual(['bar-2', 'bar-1', 'lobby-5', 'lobby-4', 'lobby-3'])
      await store.apply(published('lobby-6', clock.advance(1000)))
      expect((await store.list({ printerId: 'lobby', limit: 10 })).map((r) => r.jobId)).toEqual(['lobby-6', 'lobby-5', 'lobby-4'])
    })

    it('lists newest first, by printer, state and time, up to the limit', async () => {
      const clock = new ManualClock()
      const { store } = await make(LIMITS, clock.now)
      await store.apply(published('a', clock.advance(1000)))
      await store.apply(published('b', clock.advance(1000), 'bar'))
      const sinceC = clock.advance(1000)
      await store.apply(published('c', sinceC))
      await store.apply(published('d', clock.advance(1000)))
      await store.apply(result('a', clock.advance(1000)))
      await store.apply(error('d', clock.time, 'PRINTER_ERROR', false))
      expect((await store.list({ limit: 10 })).map((r) => r.jobId)).toEqual(['d', 'c', 'b', 'a'])
      expect((await store.list({ limit: 2 })).map((r) => r.jobId)).toEqual(['d', 'c'])
      expect((await store.list({ printerId: 'lobby', limit: 10 })).map((r) => r.jobId)).toEqual(['d', 'c', 'a'])
      expect((await store.list({ state: 'pending', limit: 10 })).map((r) => r.jobId)).toEqual(['c', 'b'])
      expect((await store.list({ printerId: 'lobby', state: 'failed', limit: 10 })).map((r) => r.jobId)).toEqual(['d'])
      expect((await store.list({ since: sinceC, limit: 10 })).map((r) => r.jobId)).toEqual(['d', 'c'])
      expect(await store.list({ printerId: 'nobody', limit: 10 })).toEqual([])
      // `until` is inclusive; `visible` (a caller's grants) filters before the limit.
      expect((await store.list({ until: sinceC, limit: 10 })).map((r) => r.jobId)).toEqual(['c', 'b', 'a'])
      expect((await store.list({ since: sinceC, until: sinceC, limit: 10 })).map((r) => r.jobId)).toEqual(['c'])
      expect((await store.list({ printerId: 'lobby', until: sinceC - 1, limit: 10 })).map((r) => r.jobId)).toEqual(['a'])
      expect((await store.list({ visible: (id) => id === 'bar', limit: 1 })).map((r) => r.jobId)).toEqual(['b'])
      expect((await store.list({ printerId: 'lobby', visible: (id) => id === 'bar', limit: 10 }))).toEqual([])
      expect((await store.list({ visible: (id) => id === 'lobby', state: 'pending', limit: 10 })).map((r) => r.jobId)).toEqual(['c'])
    })

    if (!options.persists) return
    it('keeps the history when opened again (a restart)', async () => {
      const clock = new ManualClock()
      const { store, reopen } = await make(LIMITS, clock.now)
      if (reopen === undefined) throw new Error(`${name} persists but cannot be opened again`)
      await store.apply(published('kept', clock.time))
      await store.apply(error('kept', clock.advance(10), 'PRINTER_UNREACHABLE', true))
      await store.apply(result('kept', clock.advance(10)))
      const again = await reopen()
      expect(await again.get('kept')).toMatchObject({ state: 'printed', user: 'alice', retryableErrorCount: 1 })
      expect((await again.list({ printerId: 'lobby', limit: 5 })).map((r) => r.jobId)).toEqual(['kept'])
    })
  })
}
