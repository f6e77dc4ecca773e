/**
 * Scenario 7: a 1 MiB graphics job end to end (publish → printed result), one at a time, as a base64
 * envelope (what a web page sends: any byte value) and raw; against, in the same run, the same broker's
 * one-hop publish → subscribe of the same envelope.
 */
import { e2eIdle, graphicsJob, oneHop } from '../harness/mqttLoad.ts'
import { printerIds, startAedes, startPrinterFarm, startRelayProcess } from '../harness/parts.ts'
import type { Scenario } from '../harness/scenario.ts'
import { ratio, summarize, type Row } from '../harness/stats.ts'
import { withParts } from './throughput.ts'

const MIB = 1024 * 1024

export const bigJob: Scenario = {
  name: 'big-job',
  async run (ctx) {
    const runs = ctx.quick ? 2 : 30
    return await withParts(async (cleanup) => {
      const broker = await startAedes(cleanup)
      const addresses = await startPrinterFarm(cleanup, 1)
      await startRelayProcess(cleanup, broker, addresses)
      // The largest graphics block whose job stays within the default MAX_JOB_BYTES (1 MiB).
      const data = graphicsJob(MIB - 32)
      const base = { url: broker.mqttUrl, printers: printerIds(1), data }
      await e2eIdle({ ...base, encoding: 'base64', jobs: 3 })
      ctx.progress('big-job: base64 envelope')
      const envelope = await e2eIdle({ ...base, encoding: 'base64', jobs: runs })
      ctx.progress('big-job: one hop')
      const hop = summarize(await oneHop(broker.mqttUrl, Buffer.from(JSON.stringify({ id: 'x', encoding: 'base64', data: data.toString('base64') })), runs))
      const rows: Row[] = [
        { job: '1 MiB graphics, base64 envelope (1.33 MiB)', runs: envelope.completed, failed: envelope.failed, 'p50 ms': envelope.latency.p50, 'p99 ms': envelope.latency.p99, 'max ms': envelope.latency.max, 'p50 / one hop': ratio(envelope.latency.p50, hop.p50) },
        { job: 'one hop: the same envelope, publish → subscribe', runs: hop.count, failed: 0, 'p50 ms': hop.p50, 'p99 ms': hop.p99, 'max ms': hop.max, 'p50 / one hop': 1 }
      ]
      return {
        name: 'big-job',
        title: 'A 1 MiB graphics job end to end',
        rows,
        notes: [`${MIB - 32 + 17} bytes of FGL (a <G${MIB - 32}> block holding every byte value), within the default MAX_JOB_BYTES of 1 MiB; target < 50 ms publish → printed result; one job at a time, as in "latency".`]
      }
    })
  }
}
