/**
 * Scenario 3 (latency): publish → result at fixed offered rates (idle: one job at a time; 100/s; 1,000/s),
 * Printwire (1 printer, durable spool) against the seed design in the same run.
 */
import { syncedWriteLatencies } from '../harness/diskSync.ts'
import { e2eIdle, e2eOpenLoop, oneHop, ticketOfSize, type LoadResult } from '../harness/mqttLoad.ts'
import { Cleanup, printerIds, startAedes, startPrinterFarm, startRelayProcess } from '../harness/parts.ts'
import type { Scenario } from '../harness/scenario.ts'
import { ratio, summarize, type Row } from '../harness/stats.ts'
import { seedIdle, seedOpenLoop } from '../seed/seedLoad.ts'
import { startSeed } from '../seed/seedParts.ts'
import { TICKET_BYTES } from './throughput.ts'

interface Load { name: string, printwire: () => Promise<LoadResult>, seed: () => Promise<LoadResult> }

export const latency: Scenario = {
  name: 'latency',
  async run (ctx) {
    const cleanup = new Cleanup()
    try {
      const data = ticketOfSize(TICKET_BYTES)
      const broker = await startAedes(cleanup)
      const pwPrinter = await startPrinterFarm(cleanup, 1)
      await startRelayProcess(cleanup, broker, pwPrinter)
      // The seed's printer takes several connections at once: its best case (a Boca would refuse some).
      const seedPrinter = await startPrinterFarm(cleanup, 1, { concurrent: true })
      const seed = await startSeed(cleanup, seedPrinter)
      const pw = { url: broker.mqttUrl, printers: printerIds(1), data, encoding: 'utf8' as const }
      const sd = { url: seed.url, printers: seed.printers, data }
      const seconds = ctx.quick ? 0.5 : 5
      const idleJobs = ctx.quick ? 20 : 1000
      // Warm-up, the same for both: the first few hundred jobs run before V8 has optimised the hot paths.
      const warmUp = ctx.quick ? 20 : 1000
      await e2eIdle({ ...pw, jobs: warmUp })
      await seedIdle({ ...sd, jobs: warmUp })
      const loads: Load[] = [
        { name: 'idle (one at a time)', printwire: () => e2eIdle({ ...pw, jobs: idleJobs }), seed: () => seedIdle({ ...sd, jobs: idleJobs }) },
        { name: '100 jobs/s', printwire: () => e2eOpenLoop({ ...pw, rate: 100, seconds }), seed: () => seedOpenLoop({ ...sd, rate: 100, seconds }) },
        { name: '1,000 jobs/s', printwire: () => e2eOpenLoop({ ...pw, rate: 1000, seconds }), seed: () => seedOpenLoop({ ...sd, rate: 1000, seconds }) }
      ]
      const rows: Row[] = []
      for (const load of loads) {
        ctx.progress(`latency: ${load.name}`)
        // Interleaved, so that both meet the same moment of a shared, noisy machine.
        const p = await load.printwire()
        const s = await load.seed()
        rows.push(
          { load: load.name, system: 'Printwire', jobs: p.completed, failed: p.failed, 'p50 ms': p.latency.p50, 'p99 ms': p.latency.p99, 'max ms': p.latency.max, 'p50 Printwire / seed': ratio(p.latency.p50, s.latency.p50) },
          { load: load.name, system: 'seed', jobs: s.completed, failed: s.failed, 'p50 ms': s.latency.p50, 'p99 ms': s.latency.p99, 'max ms': s.latency.max, 'p50 Printwire / seed': '' }
        )
      }
      // The floors under Printwire's idle latency, measured now: two broker hops each way and two synced writes.
      const hop = summarize(await oneHop(broker.mqttUrl, Buffer.from('{"id":"x","data":"x"}'), idleJobs))
      const sync = summarize(await syncedWriteLatencies(ctx.quick ? 20 : 500))
      rows.push(
        { load: 'idle', system: 'one MQTT hop (publish → subscribe, same broker)', jobs: hop.count, failed: 0, 'p50 ms': hop.p50, 'p99 ms': hop.p99, 'max ms': hop.max, 'p50 Printwire / seed': '' },
        { load: 'idle', system: 'one synced LevelDB write (this disk)', jobs: sync.count, failed: 0, 'p50 ms': sync.p50, 'p99 ms': sync.p99, 'max ms': sync.max, 'p50 Printwire / seed': '' }
      )
      return {
        name: 'latency',
        title: 'Publish → result latency at fixed offered rates',
        rows,
        notes: [
          `One printer, ${TICKET_BYTES}-byte tickets; Printwire as in "throughput" (its relay syncs a job to disk, marked printing, before it acknowledges it or sends a byte, and its outcome before it publishes the result); the seed keeps nothing on disk, against a printer that takes any number of connections. Both warmed up with ${ctx.quick ? 20 : 1000} jobs one at a time first.`,
          'Open loop: jobs are offered at the rate whatever the results do; latency from the publish (emit) to the result.',
          'The last two rows are floors measured in the same run: a Printwire job crosses the broker twice (job, result) and waits for two synced writes (taking it in, marked printing; its outcome).'
        ]
      }
    } finally {
      await cleanup.closeAll()
    }
  }
}
