/**
 * One printer's worker with its real spool and a real simulated printer, where the order of events must be
 * exact: the worker is driven directly, its outcomes collected by the sink a relay gives it.
 */
import { afterEach, describe, expect, it } from 'vitest'
import { loadRelayConfig } from '../../relay/config.ts'
import { BrokerClock } from '../../relay/brokerClock.ts'
import { systemClock } from '../../relay/clock.ts'
import { PrinterWorker, type OutcomeSink } from '../../relay/printerWorker.ts'
import { JobSpool, type OutboxEntry } from '../../relay/spool.ts'
import { silentLogger } from '../../runtime/logger.ts'
import { Cleanup, relayEnv, startPrinter, tempDir } from '../../harness/parts.ts'

const cleanup = new Cleanup()
afterEach(() => cleanup.closeAll())

describe('printer worker', () => {
  it('unmarks, at a clean stop, the next job it had marked `printing` with the last outcome, so it prints after a restart', async () => {
    const sim = cleanup.add(await startPrinter())
    const dir = await tempDir(cleanup)
    const config = loadRelayConfig(relayEnv('mqtt://127.0.0.1:1', { lobby: sim }, dir))
    const printer = config.PRINTERS[0] as (typeof config.PRINTERS)[number]
    const spool = new JobSpool({ dir, logger: silentLogger(), dedupeWindow: 100 })
    await spool.start()
    const brokerClock = cleanup.add(new BrokerClock({ clock: systemClock, logger: silentLogger(), waitMs: 1 }))
    await brokerClock.start()
    const delivered: OutboxEntry[] = []
    let worker: PrinterWorker | undefined
    let stopping: Promise<void> | undefined
    const sink: OutcomeSink = {
      // Stop right when the first outcome is recorded: its sync also marked the next job `printing`.
      deliver: (entry) => { delivered.push(entry); stopping ??= worker?.stop() },
      deliverUnstored: () => {},
      publishStatus: () => {}
    }
    worker = new PrinterWorker({ config, printer, logger: silentLogger(), spool, sink, brokerClock })
    await worker.start()
    await Promise.all(['w-1', 'w-2', 'w-3'].map((id) => worker?.accept(Buffer.from(JSON.stringify({ id, data: `${id}<p>` })))))
    await expect.poll(() => stopping !== undefined).toBe(true)
    await stopping
    expect(sim.tickets.map((t) => t.bytes.toString())).toEqual(['w-1<p>'])
    const left = await spool.unfinished('lobby')
    expect(left.map(({ job }) => [job.id, job.phase])).toEqual([['w-2', 'queued'], ['w-3', 'queued']])

    // After a restart they print, none reported UNCERTAIN.
    const again = new PrinterWorker({ config, printer, logger: silentLogger(), spool, brokerClock, sink: { deliver: (entry) => delivered.push(entry), deliverUnstored: () => {}, publishStatus: () => {} } })
    await again.start()
    await expect.poll(() => delivered.length, { timeout: 5_000 }).toBe(3)
    await again.stop()
    await spool.stop()
    expect(delivered.map((e) => [e.outcome.message.jobId, e.outcome.kind])).toEqual([['w-1', 'result'], ['w-2', 'result'], ['w-3', 'result']])
    expect(sim.tickets.map((t) => t.bytes.toString())).toEqual(['w-1<p>', 'w-2<p>', 'w-3<p>'])
  })

  it('counts jobs being written against MAX_QUEUED_JOBS: of jobs arriving together, only those that fit are taken', async () => {
    const sim = cleanup.add(await startPrinter())
    await sim.setState('offline')
    const dir = await tempDir(cleanup)
    const config = loadRelayConfig(relayEnv('mqtt://127.0.0.1:1', { lobby: sim }, dir, { MAX_QUEUED_JOBS: '2' }))
    const printer = config.PRINTERS[0] as (typeof config.PRINTERS)[number]
    const spool = new JobSpool({ dir, logger: silentLogger(), dedupeWindow: 100 })
    await spool.start()
    cleanup.defer(() => spool.stop())
    const delivered: OutboxEntry[] = []
    const brokerClock = cleanup.add(new BrokerClock({ clock: systemClock, logger: silentLogger(), waitMs: 1 }))
    await brokerClock.start()
    const worker = new PrinterWorker({ config, printer, logger: silentLogger(), spool, brokerClock, sink: { deliver: (entry) => delivered.push(entry), deliverUnstored: () => {}, publishStatus: () => {} } })
    await worker.start()
    cleanup.defer(() => worker.stop())
    const ids = ['c-1', 'c-2', 'c-3', 'c-4', 'c-5']
    await Promise.all(ids.map((id) => worker.accept(Buffer.from(JSON.stringify({ id, data: `${id}<p>` })))))
    expect(worker.pending).toBe(2)
    const full = delivered.filter((e) => e.outcome.kind === 'error' && e.outcome.message.code === 'QUEUE_FULL').map((e) => e.outcome.message.jobId)
    expect(full).toHaveLength(3)
    expect((await spool.unfinished('lobby')).map((e) => e.job.id).sort()).toEqual(ids.filter((id) => !full.includes(id)).sort())
  })
})
