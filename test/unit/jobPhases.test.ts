/**
 * relay/jobPhases.ts, the one owner of a job's phase on disk: "never print twice" in its two forms. The spool is
 * real (LevelDB in a temporary directory, unsynced); no printer, no socket.
 */
import { mkdtemp, rm } from 'node:fs/promises'
import os from 'node:os'
import path from 'node:path'
import { afterEach, describe, expect, it } from 'vitest'
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
})
