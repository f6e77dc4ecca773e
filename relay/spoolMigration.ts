/**
 * Converts a spool written by Printwire 0.1's first layout (a record and a data entry per job, the phase in
 * the record, outcomes with a separate order index) to the current one (spoolLayout.ts), in one synced batch at
 * start, so that an upgrade loses no queued job, no "printing" mark and no remembered outcome. Outbox
 * entries keep their layout. Returns the number of records converted (0: nothing to do).
 */
import type { Level } from 'level'
import {
  decodeJob, encodeJob, encodeOutcome, markOp, openFirstLayoutSublevels, parseOutcomeKey, progressOp, seqOfJobKey, UPTIME_KEY, writeBatch,
  type SpoolOp, type SpoolSublevels
} from './spoolLayout.ts'

export async function migrateSpool (db: Level<string, string>, sublevels: SpoolSublevels): Promise<number> {
  const old = openFirstLayoutSublevels(db)
  const ops: SpoolOp[] = []
  let converted = 0
  for await (const [key, job] of old.job.iterator()) {
    ops.push({ type: 'del', sublevel: old.job, key })
    const bytes = await old.data.get(key)
    if (bytes === undefined) continue // written without its data by no version; nothing to print
    converted++
    ops.push({ type: 'put', sublevel: sublevels.queue, key, value: encodeJob(job, bytes) })
    if (job.phase === 'printing') ops.push(markOp(sublevels, job))
    if (job.copiesDone > 0) ops.push(progressOp(sublevels, job))
  }
  for await (const key of old.data.keys()) ops.push({ type: 'del', sublevel: old.data, key })
  // Outcomes: their seq came from the order index. The broker had every one of them that is not still in
  // the outbox (which keeps its layout), so each printer's watermark is its newest outcome.
  const seqOf = new Map<string, number>()
  const newest = new Map<string, number>()
  for await (const [key, jobId] of old.outcomeOrder.iterator()) {
    ops.push({ type: 'del', sublevel: old.outcomeOrder, key })
    const printerId = parseOutcomeKey(key).printerId
    const seq = seqOfJobKey(key)
    seqOf.set(`${printerId}!${jobId}`, seq)
    newest.set(printerId, Math.max(seq, newest.get(printerId) ?? 0))
  }
  for await (const [key, outcome] of old.outcomes.iterator()) {
    converted++
    ops.push(
      { type: 'del', sublevel: old.outcomes, key },
      { type: 'put', sublevel: sublevels.outcomes, key, value: encodeOutcome(seqOf.get(key) ?? 0, outcome) }
    )
  }
  for (const [printerId, seq] of newest) ops.push({ type: 'put', sublevel: sublevels.acked, key: printerId, value: String(seq) })
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
export async function startUptimeClock (db: Level<string, string>, sublevels: SpoolSublevels, wallNow: number): Promise<number> {
  if (await sublevels.uptime.get(UPTIME_KEY) !== undefined) return 0
  const ops: SpoolOp[] = []
  for await (const [key, record] of sublevels.queue.iterator()) {
    const { settings, bytes } = decodeJob(record)
    if (settings.spooledAtUptimeMs !== undefined) continue
    const waited = Math.max(0, wallNow - settings.receivedAt)
    ops.push({ type: 'put', sublevel: sublevels.queue, key, value: encodeJob({ ...settings, spooledAtUptimeMs: -waited }, bytes) })
  }
  ops.push({ type: 'put', sublevel: sublevels.uptime, key: UPTIME_KEY, value: '0' })
  await writeBatch(db, ops, true)
  return ops.length - 1
}
