/**
 * Converts a spool written by Printwire 0.1's first layout (a record and a data entry per job, the phase in
 * the record, outcomes with a separate order index) to the current one (spool.ts), in one synced batch at
 * start, so that an upgrade loses no queued job, no "printing" mark and no remembered outcome. Outbox
 * entries keep their layout. Returns the number of records converted (0: nothing to do).
 */
import type { Level } from 'level'
import { decodeJob, encodeJob, pad, UPTIME_KEY, writeBatch, type SpooledJob, type SpoolOp, type SpoolSublevels, type StoredOutcome } from './spoolLayout.ts'


export async function migrateSpool (db: Level<string, string>, s: SpoolSublevels): Promise<number> {
  const old = {
    job: db.sublevel<string, SpooledJob>('job', { valueEncoding: 'json' }),
    data: db.sublevel<string, Buffer>('data', { valueEncoding: 'buffer' }),
    done: db.sublevel<string, StoredOutcome>('done', { valueEncoding: 'json' }),
    doneOrder: db.sublevel<string, string>('doneorder', { valueEncoding: 'utf8' })
  }
  const ops: SpoolOp[] = []
  let converted = 0
  for await (const [key, job] of old.job.iterator()) {
    ops.push({ type: 'del', sublevel: old.job, key })
    const bytes = await old.data.get(key)
    if (bytes === undefined) continue // written without its data by no version; nothing to print
    converted++
    ops.push({ type: 'put', sublevel: s.queue, key, value: encodeJob(job, bytes) })
    if (job.phase === 'printing') ops.push({ type: 'put', sublevel: s.mark, key: job.printerId, value: String(job.seq) })
    if (job.copiesDone > 0) ops.push({ type: 'put', sublevel: s.progress, key, value: String(job.copiesDone) })
  }
  for await (const key of old.data.keys()) ops.push({ type: 'del', sublevel: old.data, key })
  // Outcomes: their seq came from the order index. The broker had every one of them that is not still in
  // the outbox (which keeps its layout), so each printer's watermark is its newest outcome.
  const seqOf = new Map<string, number>()
  const newest = new Map<string, number>()
  for await (const [key, jobId] of old.doneOrder.iterator()) {
    ops.push({ type: 'del', sublevel: old.doneOrder, key })
    const cut = key.indexOf('!')
    const printerId = key.slice(0, cut)
    const seq = Number(key.slice(cut + 1))
    seqOf.set(`${printerId}!${jobId}`, seq)
    newest.set(printerId, Math.max(seq, newest.get(printerId) ?? 0))
  }
  for await (const [key, outcome] of old.done.iterator()) {
    converted++
    ops.push(
      { type: 'del', sublevel: old.done, key },
      { type: 'put', sublevel: s.done, key, value: pad(seqOf.get(key) ?? 0) + JSON.stringify(outcome) }
    )
  }
  for (const [printerId, seq] of newest) ops.push({ type: 'put', sublevel: s.acked, key: printerId, value: String(seq) })
  if (ops.length > 0) await writeBatch(db, ops, true)
  return converted
}

/**
 * Gives the spool its uptime clock (the clock jobs age on, kept across restarts), starting at 0, and stamps
 * each queued job of an earlier version, which knows only its wall-clock arrival `receivedAt`, with the
 * uptime it arrived at: as long before 0 as it arrived before `wallNow` (never after). The relay's wall clock
 * is used this once, for jobs that have nothing better. Returns the jobs stamped; nothing is done to a spool
 * that already has its clock.
 */
export async function startUptimeClock (db: Level<string, string>, s: SpoolSublevels, wallNow: number): Promise<number> {
  if (await s.clock.get(UPTIME_KEY) !== undefined) return 0
  const ops: SpoolOp[] = []
  for await (const [key, record] of s.queue.iterator()) {
    const { settings, bytes } = decodeJob(record)
    if (settings.spooledAtUptimeMs !== undefined) continue
    const waited = Math.max(0, wallNow - settings.receivedAt)
    ops.push({ type: 'put', sublevel: s.queue, key, value: encodeJob({ ...settings, spooledAtUptimeMs: -waited }, bytes) })
  }
  ops.push({ type: 'put', sublevel: s.clock, key: UPTIME_KEY, value: '0' })
  await writeBatch(db, ops, true)
  return ops.length - 1
}
