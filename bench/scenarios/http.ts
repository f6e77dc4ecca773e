/**
 * Scenario "http": the same jobs through raw mqtt.js, the client library and the HTTP API's `POST ?wait`,
 * against one broker, relay and printer farm, interleaved in one run: what each way of printing costs.
 */
import { e2eIdle, e2eWindowed, ticketOfSize, type LoadResult } from '../harness/mqttLoad.ts'
import { oneAtATime, windowed } from '../harness/loadShapes.ts'
import { httpSender, librarySender } from '../harness/clientLoad.ts'
import { Cleanup, printerIds, startAedes, startPrinterFarm, startRelayProcess } from '../harness/parts.ts'
import type { Scenario } from '../harness/scenario.ts'
import { ratio, type Row } from '../harness/stats.ts'
import { TICKET_BYTES } from './throughput.ts'

const PRINTERS = 4
const WINDOW = 20

export const http: Scenario = {
  name: 'http',
  async run (ctx) {
    const cleanup = new Cleanup()
    try {
      const data = ticketOfSize(TICKET_BYTES)
      const broker = await startAedes(cleanup)
      const printers = await startPrinterFarm(cleanup, PRINTERS)
      await startRelayProcess(cleanup, broker, printers)
      const httpUrl = broker.wsUrl.replace(/^ws/, 'http').replace(/\/mqtt$/, '')
      const ids = printerIds(PRINTERS)
      const raw = { url: broker.mqttUrl, printers: ids, data, encoding: 'utf8' as const }
      const options = { printers: ids, data }
      const idleJobs = ctx.quick ? 20 : 1000
      const windowJobs = ctx.quick ? 40 : 4000
      const ways: Array<{ system: string, idle: () => Promise<LoadResult>, window: () => Promise<LoadResult> }> = [
        { system: 'raw mqtt.js', idle: () => e2eIdle({ ...raw, jobs: idleJobs }), window: () => e2eWindowed({ ...raw, jobs: windowJobs, window: WINDOW }) },
        { system: 'client library', idle: () => oneAtATime(librarySender(broker.mqttUrl, options), idleJobs), window: () => windowed(librarySender(broker.mqttUrl, options), windowJobs, WINDOW) },
        { system: 'HTTP POST ?wait', idle: () => oneAtATime(httpSender(httpUrl, options), idleJobs), window: () => windowed(httpSender(httpUrl, options), windowJobs, WINDOW) }
      ]
      ctx.progress('http: warm-up')
      for (const way of ways) await way.idle()
      const results = new Map<string, { idle: LoadResult, window: LoadResult }>()
      for (const way of ways) {
        ctx.progress(`http: ${way.system}`)
        results.set(way.system, { idle: await way.idle(), window: await way.window() })
      }
      const base = results.get('raw mqtt.js') as { idle: LoadResult, window: LoadResult }
      const rows: Row[] = [...results].map(([system, r]) => ({
        system,
        'jobs/s (20 in flight)': r.window.perSecond,
        'jobs/s / raw': ratio(r.window.perSecond, base.window.perSecond),
        'idle p50 ms': r.idle.latency.p50,
        'idle p50 / raw': ratio(r.idle.latency.p50, base.idle.latency.p50),
        failed: r.idle.failed + r.window.failed
      }))
      return {
        name: 'http',
        title: 'Printing through raw MQTT, the client library and the HTTP API',
        rows,
        notes: [
          `${PRINTERS} fast simulated printers, one relay, the embedded broker with AUTH_FILE (PERSISTENCE=memory); ${TICKET_BYTES}-byte tickets; the three ways interleaved in one run, each warmed up first. Idle: one job at a time (${idleJobs}); load: ${WINDOW} jobs in flight (${windowJobs}).`,
          'The HTTP path adds to the client library\'s: the HTTP request and its parsing, the caller\'s log-in check (answered from memory after the first), and a second MQTT connection, in process (the API publishes over MQTT as its caller, so the broker applies the caller\'s grants); the result comes back the same way. All of it runs in the broker\'s process, beside the broker, while the other two clients run in the benchmark\'s own: on a loaded 2-core machine the HTTP path loses the most.'
        ]
      }
    } finally {
      await cleanup.closeAll()
    }
  }
}
