/**
 * What durability costs the relay: jobs taken into the spool per second, each acknowledged only once it is
 * on disk, against the same spool writing without fsync (the baseline, measured in the same run).
 * - sequential: one printer's connection, where mqtt.js hands over the next job only after the last PUBACK;
 * - 20 printers: 20 connections taking jobs at once, whose writes share one fsync (group commit).
 * `npm run bench:spool [-- --seconds 3]`; prints a table and writes bench/results/spool.json.
 */
import { mkdir, mkdtemp, rm, writeFile } from 'node:fs/promises'
import os from 'node:os'
import path from 'node:path'
import { fileURLToPath } from 'node:url'
import { JobSpool } from '../relay/spool.ts'
import { silentLogger } from '../runtime/logger.ts'

const seconds = Number(process.argv[process.argv.indexOf('--seconds') + 1] ?? 3) || 3
const ticket = Buffer.from('<RC10,10><F3>Row F seat 12<RC60,10><F2>Sunday 20:00<p>')

async function measure (syncWrites: boolean, writers: number): Promise<number> {
  const dir = await mkdtemp(path.join(os.tmpdir(), 'printwire-spool-bench-'))
  const spool = new JobSpool({ dir, logger: silentLogger(), dedupeWindow: 10_000, syncWrites })
  await spool.start()
  let count = 0
  const end = Date.now() + seconds * 1000
  await Promise.all(Array.from({ length: writers }, async (_, w) => {
    while (Date.now() < end) {
      const job = await spool.add({ id: `b-${w}-${count}`, printerId: `p${w}`, copies: 1, receivedAt: Date.now() }, ticket)
      count++
      // The job's life in the spool: marked printing, then finished (its outcome to the outbox).
      job.phase = 'printing'
      await spool.update(job)
      await spool.published(await spool.finish(job.printerId, { kind: 'result', message: { jobId: job.id, printerId: job.printerId, status: 'printed', bytes: ticket.length, durationMs: 1, printer: { acks: 1, expectedAcks: 1, statusBytes: ['0x06'], condition: 'ticket-ack' }, at: new Date().toISOString() } }, job))
    }
  }))
  await spool.stop()
  await rm(dir, { recursive: true, force: true })
  return count / seconds
}

const rows: Array<Record<string, string | number>> = []
for (const writers of [1, 20]) {
  const baseline = await measure(false, writers)
  const durable = await measure(true, writers)
  rows.push({
    printers: writers,
    'no fsync (jobs/s)': Math.round(baseline),
    'fsync, group commit (jobs/s)': Math.round(durable),
    'durable / no fsync': Math.round((durable / baseline) * 100) / 100
  })
}
console.table(rows)
const dir = path.join(path.dirname(fileURLToPath(import.meta.url)), 'results')
await mkdir(dir, { recursive: true })
await writeFile(path.join(dir, 'spool.json'), JSON.stringify({ at: new Date().toISOString(), seconds, cpus: os.cpus().length, rows }, null, 2))
