/**
 * The relay's durable spool (relay/spool.ts) on a real LevelDB in a temp dir: what survives a reopen,
 * the order of unfinished jobs, the dedupe window, the outbox, group commit, and the conversion of the
 * first layout.
 */
import path from 'node:path'
import { Level } from 'level'
import { afterEach, describe, expect, it } from 'vitest'
import { systemClock } from '../../relay/clock.ts'
import { JobSpool, type StoredOutcome } from '../../relay/spool.ts'
import { silentLogger } from '../../runtime/logger.ts'
import { Cleanup, tempDir } from '../../harness/parts.ts'

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
    expect(a.map((e) => e.size)).toEqual([256, 2])
    expect((await spool.jobBytes(a[0]!.job)).equals(bytes)).toBe(true)
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

  it('keeps a job\'s mark and confirmed copies across a reopen, and clears them when asked', async () => {
    const dir = await tempDir(cleanup)
    let spool = await openSpool(dir)
    const job = await spool.add({ id: 'm1', printerId: 'p', copies: 3, receivedAt: 1 }, Buffer.from('x'), 'printing')
    await spool.add({ id: 'm2', printerId: 'p', copies: 1, receivedAt: 2 }, Buffer.from('y'))
    await spool.stop()
    spool = await openSpool(dir)
    expect((await spool.unfinished('p')).map((e) => [e.job.id, e.job.phase, e.job.copiesDone])).toEqual([['m1', 'printing', 0], ['m2', 'queued', 0]])
    // A fault after one copy: back to queued, one copy confirmed.
    job.phase = 'queued'
    job.copiesDone = 1
    await spool.update(job)
    await spool.stop()
    spool = await openSpool(dir)
    expect((await spool.unfinished('p')).map((e) => [e.job.id, e.job.phase, e.job.copiesDone])).toEqual([['m1', 'queued', 1], ['m2', 'queued', 0]])
    // Finishing it forgets its progress; the next job, marked in the same write, is the one printing.
    const [m1, m2] = (await spool.unfinished('p')).map((e) => e.job)
    m2!.phase = 'printing'
    await spool.finish('p', result('m1'), m1, m2)
    await spool.stop()
    spool = cleanup.add(await openSpool(dir))
    expect((await spool.unfinished('p')).map((e) => [e.job.id, e.job.phase, e.job.copiesDone])).toEqual([['m2', 'printing', 0]])
  })

  it('publishes a finished job\'s outcome again after a reopen until the broker has it, in any order of acknowledgements', async () => {
    const dir = await tempDir(cleanup)
    let spool = await openSpool(dir, 2)
    const entries = []
    for (let i = 0; i < 6; i++) {
      const job = await spool.add({ id: `o${i}`, printerId: 'p', copies: 1, receivedAt: i }, Buffer.from('x'))
      entries.push(await spool.finish('p', result(job.id), job))
    }
    // Acknowledged: o0, o1, o3 and o5; o2 and o4 not (o3 and o5 came back before them).
    for (const i of [1, 0, 3, 5]) await spool.published(entries[i]!)
    await spool.stop()
    spool = await openSpool(dir, 2)
    // The watermark stops below o2: o3 is published again too (a duplicate result is allowed, a lost one is not).
    expect((await spool.unpublished('p')).map((e) => e.outcome.message.jobId)).toEqual(['o2', 'o3', 'o4', 'o5'])
    // The dedupe window is 2, but an outcome the broker lacks is never forgotten.
    expect(await spool.outcomeOf('p', 'o2')).toEqual(result('o2'))
    for (const entry of await spool.unpublished('p')) await spool.published(entry)
    await spool.stop()
    spool = cleanup.add(await openSpool(dir, 2))
    expect(await spool.unpublished('p')).toEqual([])
  })

  it('remembers the outcome settled for a job id it never had (a cancel ahead of its job), across a reopen, and publishes it until the broker has it', async () => {
    const dir = await tempDir(cleanup)
    let spool = await openSpool(dir)
    const cancelled: StoredOutcome = { kind: 'error', message: { jobId: 'ahead', printerId: 'p', code: 'JOB_CANCELLED', message: 'cancelled', retryable: false, at: '2026-11-30T00:00:00.000Z' } }
    const entry = await spool.settle('p', 'ahead', cancelled)
    expect(entry).toMatchObject({ printerId: 'p', outcome: cancelled, finishedJob: true })
    expect(await spool.unfinished('p')).toEqual([])
    await spool.stop()
    spool = await openSpool(dir)
    expect(await spool.outcomeOf('p', 'ahead')).toEqual(cancelled)
    expect((await spool.unpublished('p')).map((e) => e.outcome)).toEqual([cancelled])
    for (const unpublished of await spool.unpublished('p')) await spool.published(unpublished)
    await spool.stop()
    spool = cleanup.add(await openSpool(dir))
    expect(await spool.unpublished('p')).toEqual([])
    expect(await spool.outcomeOf('p', 'ahead')).toEqual(cancelled)
  })

  it('ages jobs on its uptime clock, kept across a reopen, whatever the wall clock does', async () => {
    const dir = await tempDir(cleanup)
    const clock = { ...systemClock, wall: Date.parse('2026-11-21T19:00:00Z'), mono: 500, now: () => clock.wall, monotonic: () => clock.mono }
    let spool = new JobSpool({ dir, logger: silentLogger(), dedupeWindow: 10, clock })
    await spool.start()
    expect(spool.uptimeMs()).toBe(0)
    clock.mono += 1000
    const job = await spool.add({ id: 'u1', printerId: 'p', copies: 1, receivedAt: clock.wall }, Buffer.from('u1<p>'))
    expect(job.spooledAtUptimeMs).toBe(1000)
    clock.mono += 4000
    await spool.stop()
    // Restarted: the monotonic clock starts elsewhere, the wall clock stepped an hour back.
    clock.mono = 7
    clock.wall -= 3_600_000
    spool = cleanup.add(new JobSpool({ dir, logger: silentLogger(), dedupeWindow: 10, clock }))
    await spool.start()
    expect(spool.uptimeMs()).toBe(5000)
    const [found] = await spool.unfinished('p')
    expect(found?.job.spooledAtUptimeMs).toBe(1000)
  })

  it('gives the jobs of a spool written before the uptime clock the age their wall-clock arrival says, once', async () => {
    const dir = await tempDir(cleanup)
    // The layout before the uptime clock: settings without spooledAtUptimeMs, and no clock record.
    const db = new Level<string, string>(path.join(dir, 'spool'))
    await db.open()
    const queue = db.sublevel<string, Buffer>('queue', { valueEncoding: 'buffer' })
    const settings = Buffer.from(JSON.stringify({ id: 'before', copies: 1, receivedAt: Date.parse('2026-11-21T18:59:30Z') }))
    const record = Buffer.concat([Buffer.alloc(4), settings, Buffer.from('before<p>')])
    record.writeUInt32BE(settings.length, 0)
    await queue.put('p!0000000000000001', record)
    await db.close()

    const clock = { ...systemClock, wall: Date.parse('2026-11-21T19:00:00Z'), mono: 0, now: () => clock.wall, monotonic: () => clock.mono }
    let spool = new JobSpool({ dir, logger: silentLogger(), dedupeWindow: 10, clock })
    await spool.start()
    let [found] = await spool.unfinished('p')
    expect(found?.job).toMatchObject({ id: 'before', spooledAtUptimeMs: -30_000 })
    expect(found?.size).toBe('before<p>'.length)
    expect(found === undefined ? undefined : (await spool.jobBytes(found.job)).toString()).toBe('before<p>')
    clock.mono += 2000
    await spool.stop()
    // Converted once: a wall-clock step afterwards changes nothing.
    clock.wall += 10 * 3_600_000
    spool = cleanup.add(new JobSpool({ dir, logger: silentLogger(), dedupeWindow: 10, clock }))
    await spool.start();
    [found] = await spool.unfinished('p')
    expect(spool.uptimeMs() - (found?.job.spooledAtUptimeMs ?? 0)).toBe(32_000)
  })

  it('converts a spool of the first layout: queued jobs, the printing mark, progress, outcomes and outbox', async () => {
    const dir = await tempDir(cleanup)
    // The first layout, written as version 0.1 of spool.ts wrote it.
    const db = new Level<string, string>(path.join(dir, 'spool'))
    await db.open()
    const job = db.sublevel<string, object>('job', { valueEncoding: 'json' })
    const data = db.sublevel<string, Buffer>('data', { valueEncoding: 'buffer' })
    const done = db.sublevel<string, object>('done', { valueEncoding: 'json' })
    const doneOrder = db.sublevel<string, string>('doneorder', { valueEncoding: 'utf8' })
    const outbox = db.sublevel<string, object>('outbox', { valueEncoding: 'json' })
    const bytes = Buffer.from([0, 1, 2, 255])
    await job.put('p!0000000000000003', { seq: 3, id: 'old-printing', printerId: 'p', copies: 2, copiesDone: 1, receivedAt: 5, phase: 'printing' })
    await data.put('p!0000000000000003', bytes)
    await job.put('p!0000000000000004', { seq: 4, id: 'old-queued', printerId: 'p', copies: 1, copiesDone: 0, receivedAt: 6, expiresAt: 99, phase: 'queued' })
    await data.put('p!0000000000000004', Buffer.from('q'))
    await done.put('p!old-done', result('old-done'))
    await doneOrder.put('p!0000000000000002', 'old-done')
    await outbox.put('0000000000000002', { seq: 2, printerId: 'p', outcome: result('old-done') })
    await db.close()

    let spool = await openSpool(dir)
    const jobs = await spool.unfinished('p')
    expect(jobs.map((e) => [e.job.id, e.job.seq, e.job.phase, e.job.copies, e.job.copiesDone, e.job.expiresAt])).toEqual([
      ['old-printing', 3, 'printing', 2, 1, undefined],
      ['old-queued', 4, 'queued', 1, 0, 99]
    ])
    expect(jobs[0]?.size).toBe(bytes.length)
    expect((await spool.jobBytes(jobs[0]!.job)).equals(bytes)).toBe(true)
    expect(await spool.outcomeOf('p', 'old-done')).toEqual(result('old-done'))
    expect((await spool.unpublished('p')).map((e) => [e.seq, e.outcome.message.jobId])).toEqual([[2, 'old-done']])
    // Numbering goes on after the old records.
    expect((await spool.add({ id: 'new', printerId: 'p', copies: 1, receivedAt: 7 }, Buffer.from('n'))).seq).toBe(5)
    await spool.stop()
    // Converted once: the old records are gone, and a second start finds the same jobs.
    const raw = new Level<string, string>(path.join(dir, 'spool'))
    await raw.open()
    const keys: string[] = []
    for await (const key of raw.keys()) keys.push(key)
    await raw.close()
    expect(keys.filter((key) => /^!(job|data|done|doneorder)!/.test(key))).toEqual([])
    spool = cleanup.add(await openSpool(dir))
    expect((await spool.unfinished('p')).map((e) => e.job.id)).toEqual(['old-printing', 'old-queued', 'new'])
    expect(await spool.outcomeOf('p', 'old-done')).toEqual(result('old-done'))
  })
})
