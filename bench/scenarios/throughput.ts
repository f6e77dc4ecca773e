/**
 * Scenarios 1, 2 and 4 (throughput): jobs with ids, QoS 1, a window of jobs in flight, through the embedded
 * broker, the relay (durable spool on) and fast simulated printers, each result received by the publisher;
 * against, in the same run, the ceiling (the same broker's own QoS 1 publish → subscribe rate, same client
 * library, window and payload) and the seed architecture (Socket.IO server + relay, a new TCP connection per
 * job, nothing on disk), with 1 and 20 printers.
 */
import { busiest, cpuPerUnit, withCpu, type CpuUse } from '../harness/cpuMeter.ts'
import { ceiling, e2eWindowed, ticketOfSize, type LoadResult } from '../harness/mqttLoad.ts'
import { Cleanup, printerIds, startAedes, startPrinterFarmProcess, startRelayProcess, type BrokerUnderTest } from '../harness/parts.ts'
import type { Scenario } from '../harness/scenario.ts'
import { ratio, type Row } from '../harness/stats.ts'
import { seedWindowed } from '../seed/seedLoad.ts'
import { startSeed } from '../seed/seedParts.ts'

export const WINDOW = 100
export const TICKET_BYTES = 200

/** The envelope a job travels in, as the ceiling's payload: the same bytes on the wire. */
export function envelopeOf (data: Buffer): Buffer {
  return Buffer.from(JSON.stringify({ id: 'b00000-0000000', encoding: 'utf8', data: data.toString('utf8') }))
}

/** Each measurement on parts of its own, all stopped before the next one starts. */
export async function withParts<T> (run: (cleanup: Cleanup) => Promise<T>): Promise<T> {
  const cleanup = new Cleanup()
  try {
    return await run(cleanup)
  } finally {
    await cleanup.closeAll()
  }
}

/** A load's result, with the CPU each process spent on it when measured. */
export type Measured = LoadResult & { cpu?: CpuUse }

function loadRow (what: string, printers: number, result: Measured): Row {
  const jobs = result.latency.count + result.failed
  return {
    system: what,
    printers,
    'jobs/s': result.perSecond,
    failed: result.failed,
    'p50 ms': result.latency.p50,
    'p99 ms': result.latency.p99,
    'CPU µs per job, by process': result.cpu === undefined ? '' : cpuPerUnit(result.cpu, jobs),
    'busiest process (% of one core)': result.cpu === undefined ? '' : busiest(result.cpu)
  }
}

export type BrokerStarter = (cleanup: Cleanup) => Promise<BrokerUnderTest>

export const aedesWith = (env: Record<string, string> = {}): BrokerStarter => async (cleanup) => await startAedes(cleanup, env)

/** Printwire's e2e rate and, on the same broker, the ceiling. */
export async function measurePrintwire (printers: number, jobs: number, startBroker: BrokerStarter = aedesWith()): Promise<{ e2e: Measured, ceiling: Measured }> {
  return await withParts(async (cleanup) => {
    const broker = await startBroker(cleanup)
    const farm = await startPrinterFarmProcess(cleanup, printers)
    const relay = await startRelayProcess(cleanup, broker, farm.addresses)
    const data = ticketOfSize(TICKET_BYTES)
    const options = { url: broker.mqttUrl, printers: printerIds(printers), data, encoding: 'utf8' as const }
    await e2eWindowed({ ...options, jobs: Math.min(200, jobs), window: WINDOW }) // warm-up: JIT, caches, connections
    const e2e = await withCpu(
      { load: process.pid, broker: broker.pid, relay: relay.child.pid ?? 0, printers: farm.pid },
      async () => await e2eWindowed({ ...options, jobs, window: WINDOW }))
    const top = await withCpu(
      { load: process.pid, broker: broker.pid },
      async () => await ceiling({ url: broker.mqttUrl, messages: jobs, window: WINDOW, payload: envelopeOf(data) }))
    return { e2e: { ...e2e.result, cpu: e2e.cpu }, ceiling: { ...top.result, cpu: top.cpu } }
  })
}

async function measureSeed (printers: number, jobs: number, concurrent: boolean): Promise<Measured> {
  return await withParts(async (cleanup) => {
    const farm = await startPrinterFarmProcess(cleanup, printers, { concurrent })
    const seed = await startSeed(cleanup, farm.addresses)
    const options = { url: seed.url, printers: seed.printers, data: ticketOfSize(TICKET_BYTES) }
    await seedWindowed({ ...options, jobs: Math.min(200, jobs), window: WINDOW })
    const measured = await withCpu(
      { load: process.pid, server: seed.pids.server, relay: seed.pids.relay, printers: farm.pid },
      async () => await seedWindowed({ ...options, jobs, window: WINDOW }))
    return { ...measured.result, cpu: measured.cpu }
  })
}

export const throughput: Scenario = {
  name: 'throughput',
  async run (ctx) {
    const rows: Row[] = []
    const notes: string[] = [
      `${TICKET_BYTES}-byte FGL tickets in JSON envelopes with ids; ${WINDOW} jobs in flight; QoS 1; one publisher connection (mqtt.js 5, TCP_NODELAY).`,
      'Printwire: embedded Aedes (PERSISTENCE=memory, AUTH_FILE on), one relay process (durable LevelDB spool, fsync before each PUBACK), printers in a third process acknowledging each ticket at once (Boca-like: one connection at a time).',
      'ceiling: the same broker process, publish → subscribe, one hop, same client library, window and payload.',
      'seed: Socket.IO server + Socket.IO relay opening a new TCP connection per job, nothing on disk. Against Boca-like printers (one connection at a time) most of its jobs are refused; "permissive" printers take any number of connections (its best case).',
      'CPU µs per job, by process: each process\'s user + system CPU (all its threads, from /proc) during the measurement, divided by the jobs (for the ceiling: by the messages); "load" is the publisher. Busiest process: its CPU as a share of one core over the measurement; each part runs its JavaScript on one thread, so a part near 100 % is what limits the run, and two cores cap the sum of all parts.'
    ]
    for (const printers of [1, 20]) {
      const jobs = ctx.quick ? 50 : printers === 1 ? 4000 : 8000
      ctx.progress(`throughput: Printwire, ${printers} printer(s), ${jobs} jobs`)
      const pw = await measurePrintwire(printers, jobs)
      ctx.progress(`throughput: seed, ${printers} printer(s)`)
      const seedBoca = await measureSeed(printers, jobs, false)
      const seedPermissive = await measureSeed(printers, jobs, true)
      rows.push(
        { ...loadRow('Printwire e2e', printers, pw.e2e), 'ratio': `${ratio(pw.e2e.perSecond, pw.ceiling.perSecond)} × ceiling` },
        { ...loadRow('ceiling (broker alone)', printers, pw.ceiling), ratio: '1' },
        { ...loadRow('seed, Boca-like printers', printers, seedBoca), ratio: `Printwire = ${ratio(pw.e2e.perSecond, Math.max(1, seedBoca.perSecond))} × this` },
        { ...loadRow('seed, permissive printers', printers, seedPermissive), ratio: `Printwire = ${ratio(pw.e2e.perSecond, seedPermissive.perSecond)} × this` }
      )
    }
    return { name: 'throughput', title: 'End-to-end throughput against the ceiling and the seed design', rows, notes }
  }
}
