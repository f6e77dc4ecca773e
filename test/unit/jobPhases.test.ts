/**
 * relay/jobPhases.ts, the one owner of a job's phase on disk: "never print twice" in its two forms. The spool is
 * real (LevelDB in a temporary directory, unsynced); no printer, no socket.
 */
import { mkdtemp, rm } from 'node:fs/promises'
import os from 'node:os'
import path from 'node:path'
import { afterEach, describe, expect, it } from 'vitest'
import type { JobErrorMessage } from '../../protocol/index.ts'
import { JobPhases } from '../../relay/jobPhases.ts'
import { JobSpool } from '../../relay/spool.ts'
import type { OutboxEntry, StoredOutcome } from '../../relay/spoolLayout.ts'
import { silentLogger } from '../../runtime/logger.ts'

const stops: Array<() => Promise<void>> = []
afterEach(async () => {
  for (const stop of stops.splice(0).reverse()) await stop()
})

async function setup (): Promise<{ phases: JobPhases, spool: JobSpool, delivered: OutboxEntry[] }> {
  const dir = await mkdtemp(path.join(os.tmpdir(), 'printwire-unit-'))
  stops.push(() => rm(dir, { recursive: true, force: true }))
  const spool = new JobSpool({ dir, logger: silentLogger(), dedupeWindow: 100, syncWrites: false })
  await spool.start()
  stops.push(() => spool.stop())
  const delivered: OutboxEntry[] = []
  const phases = new JobPhases({ printerId: 'lobby', spool, logger: silentLogger(), deliver: (entry) => delivered.push(entry), stopped: () => false, waitForSpool: async () => {} })
  return { phases, spool, delivered }
}

const cancelled = (jobId: string): JobErrorMessage => ({ jobId, printerId: 'lobby', code: 'JOB_CANCELLED', message: 'cancelled', retryable: false, at: '2026-11-30T10:00:00.000Z' })

const printed = (jobId: string): StoredOutcome => ({ kind: 'result', message: { jobId, printerId: 'lobby', status: 'printed', bytes: 1, durationMs: 1, printer: { acks: 1, expectedAcks: 1, statusBytes: ['0x06'], condition: 'ticket-ack' }, at: '2026-11-30T10:00:00.000Z' } })

describe('job phases', () => {
  it('marks a job `printing` on disk before its first byte, and refuses to send it again until an attempt put it back', async () => {
    const { phases, spool } = await setup()
    const job = await phases.take({ id: 'j-1', printerId: 'lobby', copies: 1, receivedAt: 0 }, Buffer.from('x'), 'queued')
    await phases.beforeSend(job)
    expect((await spool.unfinished('lobby')).map((e) => e.job.phase)).toEqual(['printing'])
    await expect(phases.beforeSend(job)).rejects.toMatchObject({ code: 'UNCERTAIN' })
    // Nothing printed beyond the acknowledged tickets: back to `queued`, and it may go again.
    await phases.requeue(job, 0, 1)
    expect((await spool.unfinished('lobby')).map((e) => e.job.phase)).toEqual(['queued'])
    await expect(phases.beforeSend(job)).resolves.toBeUndefined()
  })

  it('never sends a job found marked `printing` at start', async () => {
    const { phases, spool } = await setup()
    await phases.take({ id: 'j-2', printerId: 'lobby', copies: 1, receivedAt: 0 }, Buffer.from('x'), 'printing')
    const [found] = await spool.unfinished('lobby')
    if (found === undefined) throw new Error('not spooled')
    phases.resumedPrinting(found.job)
    await expect(phases.beforeSend(found.job)).rejects.toMatchObject({ code: 'UNCERTAIN' })
  })

  it('sends a job marked ahead (with the previous outcome) without another mark, and unmarks it at a stop if it was not sent', async () => {
    const { phases, spool } = await setup()
    const first = await phases.take({ id: 'a', printerId: 'lobby', copies: 1, receivedAt: 0 }, Buffer.from('a'), 'printing')
    const next = await phases.take({ id: 'b', printerId: 'lobby', copies: 1, receivedAt: 0 }, Buffer.from('b'), 'queued')
    await phases.beforeSend(first)
    phases.markAhead(next)
    await phases.finish(first, printed('a'), next)
    expect((await spool.unfinished('lobby')).map((e) => [e.job.id, e.job.phase])).toEqual([['b', 'printing']])
    await phases.unmarkUnsent(next)
    expect((await spool.unfinished('lobby')).map((e) => [e.job.id, e.job.phase])).toEqual([['b', 'queued']])
  })

  it('keeps a finished job\'s outcome to answer its id with, and publishes an outcome only once it is stored', async () => {
    const { phases, delivered } = await setup()
    const job = await phases.take({ id: 'done-1', printerId: 'lobby', copies: 1, receivedAt: 0 }, Buffer.from('x'), 'queued')
    await phases.beforeSend(job)
    await phases.finish(job, printed('done-1'))
    expect(delivered.map((e) => e.outcome)).toEqual([printed('done-1')])
    expect(await phases.storedOutcome('done-1')).toEqual(printed('done-1'))
    expect(await phases.storedOutcome('never-seen')).toBeUndefined()
  })

  it('cancels a job before its first byte: a send begun meanwhile waits and is refused, and the job\'s own outcome is never stored over the cancel', async () => {
    const { phases, spool, delivered } = await setup()
    const job = await phases.take({ id: 'c-1', printerId: 'lobby', copies: 1, receivedAt: 0 }, Buffer.from('x'), 'queued')
    expect(phases.started(job)).toBe(false)
    const cancelling = phases.cancel(job, cancelled('c-1'))
    // Begun while the cancel is being stored: waits for it.
    const sending = phases.beforeSend(job)
    await cancelling
    await expect(sending).rejects.toMatchObject({ code: 'JOB_CANCELLED' })
    expect(phases.isCancelled(job)).toBe(true)
    expect(await spool.unfinished('lobby')).toEqual([])
    expect(await phases.bytesOf(job)).toBeUndefined()
    expect(await phases.storedOutcome('c-1')).toEqual({ kind: 'error', message: cancelled('c-1') })
    await phases.finish(job, printed('c-1'))
    expect(await phases.storedOutcome('c-1')).toEqual({ kind: 'error', message: cancelled('c-1') })
    expect(delivered.map((e) => e.outcome.message.jobId)).toEqual(['c-1'])
  })

  it('does not cancel a job that has started: its mark being written, its bytes maybe sent, or a copy printed', async () => {
    const { phases } = await setup()
    const marking = await phases.take({ id: 's-1', printerId: 'lobby', copies: 1, receivedAt: 0 }, Buffer.from('x'), 'queued')
    const sending = phases.beforeSend(marking)
    expect(phases.started(marking)).toBe(true)
    await expect(phases.cancel(marking, cancelled('s-1'))).rejects.toThrow(/has started/)
    await sending
    expect(phases.started(marking)).toBe(true)
    const copies = await phases.take({ id: 's-2', printerId: 'lobby', copies: 3, receivedAt: 0 }, Buffer.from('x'), 'queued')
    await phases.beforeSend(copies)
    await phases.requeue(copies, 1, 1)
    expect(copies.copiesDone).toBe(1)
    expect(phases.started(copies)).toBe(true)
    const ending = await phases.take({ id: 's-3', printerId: 'lobby', copies: 1, receivedAt: 0 }, Buffer.from('x'), 'queued')
    const finishing = phases.finish(ending, { kind: 'error', message: { ...cancelled('s-3'), code: 'JOB_EXPIRED' } })
    expect(phases.isEnding(ending)).toBe(true)
    await finishing
  })

  it('leaves a job as it was when its cancel cannot be stored', async () => {
    const { phases, spool, delivered } = await setup()
    const job = await phases.take({ id: 'f-1', printerId: 'lobby', copies: 1, receivedAt: 0 }, Buffer.from('x'), 'queued')
    const finish = spool.finish.bind(spool)
    spool.finish = async () => { throw new Error('No space left on device') }
    await expect(phases.cancel(job, cancelled('f-1'))).rejects.toThrow('No space left')
    spool.finish = finish
    expect(phases.isCancelled(job)).toBe(false)
    expect(phases.isEnding(job)).toBe(false)
    await expect(phases.beforeSend(job)).resolves.toBeUndefined()
    expect(delivered).toEqual([])
  })

  it('stores JOB_CANCELLED for a job id not arrived yet, to answer it with when it does', async () => {
    const { phases, delivered } = await setup()
    await phases.cancelAhead('later', cancelled('later'))
    expect(await phases.storedOutcome('later')).toEqual({ kind: 'error', message: cancelled('later') })
    expect(delivered.map((e) => e.outcome.message)).toEqual([cancelled('later')])
  })
})
