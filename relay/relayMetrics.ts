/**
 * The relay's own Prometheus metrics (README "Metrics"), at `GET /metrics` on METRICS_PORT (METRICS_HOST, loopback
 * unless said otherwise; no log-in, so keep it there or behind a firewall): per printer, the jobs and bytes waiting
 * in its spool, its state, whether its broker connection is up, the outcomes the relay published and how long the
 * printed jobs took at the printer. In a registry of its own (never prom-client's global one). Read at each scrape
 * from the relay's parts, except the outcomes, which the lanes report as they are published.
 */
import { createServer, type Server } from 'node:http'
import type { AddressInfo, Socket } from 'node:net'
import { Counter, Gauge, Histogram, Registry } from 'prom-client'
import { PRINTER_STATES, type JobErrorMessage, type JobResult } from '../protocol/index.ts'
import type { Logger } from '../runtime/logger.ts'
import { closeServer, listen } from '../runtime/servers.ts'

export const RELAY_METRICS_PATH = '/metrics'
/** Print duration buckets, in seconds: a ticket takes about a second; a long job or slow printer up to a minute. */
export const PRINT_DURATION_BUCKETS_SECONDS = [0.1, 0.25, 0.5, 1, 2, 5, 10, 20, 30, 60]

/** What the metrics read of one printer's lane at each scrape. */
export interface LaneView {
  printerId: string
  queuedJobs: () => number
  queuedBytes: () => number
  state: () => string
  brokerConnected: () => boolean
}

export interface RelayMetricsDeps {
  port: number
  host: string
  lanes: () => LaneView[]
  logger: Logger
}

export class RelayMetrics {
  readonly registry = new Registry()
  private readonly deps: RelayMetricsDeps
  private readonly outcomes: Counter<'printer' | 'outcome'>
  private readonly durations: Histogram<'printer' | 'status'>
  private server: Server | undefined
  private readonly sockets = new Set<Socket>()

  constructor (deps: RelayMetricsDeps) {
    this.deps = deps
    const registers = [this.registry]
    const lanes = deps.lanes
    this.outcomes = new Counter({ name: 'printwire_relay_outcomes_total', help: 'Results and errors the relay published, by printer: outcome is printed, sent, or the error code (retryable ones included; a duplicate answered again counts again).', labelNames: ['printer', 'outcome'], registers })
    this.durations = new Histogram({ name: 'printwire_relay_print_duration_seconds', help: 'How long a job took at the printer (its result\'s durationMs), by printer and status.', labelNames: ['printer', 'status'], buckets: PRINT_DURATION_BUCKETS_SECONDS, registers })
    new Gauge({
      name: 'printwire_relay_queued_jobs',
      help: 'Jobs in the relay\'s spool for each printer: waiting or printing.',
      labelNames: ['printer'],
      registers,
      collect () { for (const lane of lanes()) this.set({ printer: lane.printerId }, lane.queuedJobs()) }
    })
    new Gauge({
      name: 'printwire_relay_queued_bytes',
      help: 'Bytes of job data (one copy each) in the relay\'s spool for each printer.',
      labelNames: ['printer'],
      registers,
      collect () { for (const lane of lanes()) this.set({ printer: lane.printerId }, lane.queuedBytes()) }
    })
    new Gauge({
      name: 'printwire_relay_printer_state',
      help: 'Each printer\'s state as the relay announces it: 1 for its state now, 0 for the others.',
      labelNames: ['printer', 'state'],
      registers,
      collect () {
        for (const lane of lanes()) {
          const now = lane.state()
          for (const state of PRINTER_STATES) this.set({ printer: lane.printerId, state }, state === now ? 1 : 0)
        }
      }
    })
    new Gauge({
      name: 'printwire_relay_broker_connected',
      help: 'Whether each printer\'s MQTT connection to the broker is up (1) or not (0).',
      labelNames: ['printer'],
      registers,
      collect () { for (const lane of lanes()) this.set({ printer: lane.printerId }, lane.brokerConnected() ? 1 : 0) }
    })
  }

  /** The port it listens on (METRICS_PORT 0: the one it got). */
  get port (): number {
    return (this.server?.address() as AddressInfo | null)?.port ?? 0
  }

  /** A result or error the relay published for a printer (printerLane.ts). */
  outcome (message: JobResult | JobErrorMessage): void {
    const printer = message.printerId
    if ('status' in message) {
      this.outcomes.inc({ printer, outcome: message.status })
      if (Number.isFinite(message.durationMs) && message.durationMs >= 0) this.durations.observe({ printer, status: message.status }, message.durationMs / 1000)
    } else {
      this.outcomes.inc({ printer, outcome: message.code })
    }
  }

  async start (): Promise<void> {
    const { port, host, logger } = this.deps
    const server = createServer((req, res) => {
      if (req.method !== 'GET' || (req.url ?? '').split('?')[0] !== RELAY_METRICS_PATH) {
        res.writeHead(404, { 'content-type': 'text/plain' }).end(`only GET ${RELAY_METRICS_PATH} here\n`)
        return
      }
      this.registry.metrics().then((text) => {
        res.writeHead(200, { 'content-type': this.registry.contentType, 'cache-control': 'no-store' }).end(text)
      }, (error: unknown) => {
        logger.error({ err: error }, 'metrics: could not answer a scrape')
        res.writeHead(500, { 'content-type': 'text/plain' }).end('the metrics could not be read; see the relay\'s log\n')
      })
    })
    server.on('connection', (socket: Socket) => {
      this.sockets.add(socket)
      socket.once('close', () => this.sockets.delete(socket))
    })
    await listen(server, port, host).catch((error: NodeJS.ErrnoException) => {
      throw Object.assign(new Error(`METRICS_PORT: cannot listen on ${host}:${port}: ${error.message}${error.code === 'EADDRINUSE' ? ' (another program uses it: choose another METRICS_PORT)' : ''}`), { code: error.code })
    })
    this.server = server
    logger.info({ metrics: `http://${host.includes(':') ? `[${host}]` : host}:${this.port}${RELAY_METRICS_PATH}` }, 'relay metrics listening')
  }

  async stop (): Promise<void> {
    const closed = closeServer(this.server)
    for (const socket of this.sockets) socket.destroy()
    await closed
    this.server = undefined
  }
}
