/**
 * The relay's durable spool (relay/spool.ts) on a real LevelDB in a temp dir: what survives a reopen,
 * the order of unfinished jobs, the dedupe window, the outbox, and group commit.
 */
import { afterEach, describe, expect, it } from 'vitest'
import { JobSpool, type StoredOutcome } from '../relay/spool.ts'
import { silentLogger } from '../runtime/logger.ts'
import { Cleanup, tempDir } from './helpers/parts.ts'

const cleanup = new Cleanup()
afterEach(() => cleanup.closeAll())

async function openSpool (dir: string, dedupeWindow = 10_000): Promise<JobSpool> {
  const spool = new JobSpool({ dir, logger: silentLogger(), dedupeWindow })
  await spool.start()
  return spool
}

const result = (jobId: string): StoredOutcome => ({
  kind: 'result',
  message: { jobId, printerId: 'p', status: 'printed', bytes: 1, durationMs: 1, printer: { acks: 1, expectedAcks: 1, statusBytes: ['0x06'], condition: 'ticket-ack' }, at: '2026-11-22T00:00:00.000Z' }
})

describe('job spool', () => {
  it('keeps unfinished jobs, in order and per printer, with their exact bytes, across a reopen', async () => {
    const dir = await tempDir(cleanup)
    let spool = await openSpool(dir)
    const bytes = Buffer.from(Array.from({ length: 256 }, (_, i) => i))
    const a1 = await spool.add({ id: 'a1', printerId: 'a', copies: 1, receivedAt: 1 }, bytes)
    await spool.add({ id: 'b1', printerId: 'b', copies: 2, receivedAt: 2 }, Buffer.from('b'))
    await spool.add({ id: 'a2', printerId: 'a', copies: 1, receivedAt: 3, expiresAt: 99 }, Buffer.from('a2'))
    a1.phase = 'printing'
    await spool.update(a1)
    await spool.stop()
    spool = cleanup.add(await openSpool(dir))
    const a = await spool.unfinished('a')
    expect(a.map((e) => [e.job.id, e.job.phase])).toEqual([['a1', 'printing'], ['a2', 'queued']])
    expect(a[0]?.bytes.equals(bytes)).toBe(true)
    expect(a[1]?.job.expiresAt).toBe(99)
    expect((await spool.unfinished('b')).map((e) => e.job.copies)).toEqual([2])
    // New jobs are numbered after the old ones, so the order holds.
    const a3 = await spool.add({ id: 'a3', printerId: 'a', copies: 1, receivedAt: 4 }, Buffer.from('a3'))
    expect(a3.seq).toBeGreaterThan(a[1]!.job.seq)
  })

  it('remembers finished outcomes for duplicates, up to the window, across a reopen', async () => {
    const dir = await tempDir(cleanup)
    let spool = await openSpool(dir, 10)
    for (let i = 0; i < 30; i++) {
      const job = await spool.add({ id: `j${i}`, printerId: 'p', copies: 1, receivedAt: i }, Buffer.from('x'))
      const entry = await spool.finish('p', result(job.id), job)
      await spool.published(entry)
    }
    await spool.stop()
    spool = cleanup.add(await openSpool(dir, 10))
    expect(await spool.unfinished('p')).toEqual([])
    expect(await spool.outcomeOf('p', 'j29')).toEqual(result('j29'))
    expect(await spool.outcomeOf('p', 'j20')).toEqual(result('j20'))
    expect(await spool.outcomeOf('p', 'j0')).toBeUndefined()
    // Another printer's ids are its own.
    expect(await spool.outcomeOf('q', 'j29')).toBeUndefined()
    expect(await spool.unpublished('p')).toEqual([])
  })

  it('keeps outcomes in the outbox until published, across a reopen', async () => {
    const dir = await tempDir(cleanup)
    let spool = await openSpool(dir)
    const first = await spool.finish('p', result('r1'))
    await spool.finish('p', result('r2'))
    await spool.finish('q', result('other'))
    await spool.published(first)
    await spool.stop()
    spool = cleanup.add(await openSpool(dir))
    expect((await spool.unpublished('p')).map((e) => e.outcome.message.jobId)).toEqual(['r2'])
    expect((await spool.unpublished('q')).map((e) => e.outcome.message.jobId)).toEqual(['other'])
  })

  it('shares one synced write among writes that arrive together', async () => {
    const spool = cleanup.add(await openSpool(await tempDir(cleanup)))
    const before = spool.syncs
    await Promise.all(Array.from({ length: 20 }, (_, i) => spool.add({ id: `g${i}`, printerId: `p${i}`, copies: 1, receivedAt: i }, Buffer.from('x'))))
    expect(spool.syncs - before).toBeLessThanOrEqual(2)
    for (let i = 0; i < 3; i++) await spool.add({ id: `s${i}`, printerId: 'p', copies: 1, receivedAt: i }, Buffer.from('x'))
    expect(spool.syncs - before).toBeGreaterThanOrEqual(4)
  })
})
