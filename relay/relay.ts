/**
 * The relay: a durable spool shared by all its printers, and for each printer in PRINTERS a queue
 * (PrinterWorker) and its own MQTT connection (BrokerLink), so a slow or dead printer never delays another.
 * Its parts are built in order (printerLane.ts) and started in order; if one fails to start, it and every
 * part started before it are stopped, and the error is thrown.
 */
import { EventEmitter } from 'node:events'
import path from 'node:path'
import { startParts, type Part } from '../runtime/lifecycle.ts'
import type { Logger } from '../runtime/logger.ts'
import { BrokerClock } from './brokerClock.ts'
import { systemClock, type Clock } from './clock.ts'
import type { RelayConfig } from './config.ts'
import { buildPrinterLane, type PrinterLane } from './printerLane.ts'
import { RelayMetrics } from './relayMetrics.ts'
import { JobSpool } from './spool.ts'

export interface RelayDeps {
  config: RelayConfig
  logger: Logger
  /** The relay's clocks (default: the system's); tests skew or advance them. */
  clock?: Clock
}

/** The parts of a started relay. */
interface RunningRelay {
  spool: JobSpool
  brokerClock: BrokerClock
  lanes: PrinterLane[]
  metrics: RelayMetrics | undefined
}

export class Relay {
  private readonly config: RelayConfig
  private readonly logger: Logger
  private readonly clock: Clock
  private running: RunningRelay | undefined

  constructor (deps: RelayDeps) {
    this.config = deps.config
    this.logger = deps.logger
    this.clock = deps.clock ?? systemClock
  }

  /** The port of the relay's metrics (METRICS_PORT), 0 without them. */
  get metricsPort (): number {
    return this.running?.metrics?.port ?? 0
  }

  /** Jobs waiting or printing, per printer id. */
  pending (): Record<string, number> {
    return Object.fromEntries((this.running?.lanes ?? []).map((lane) => [lane.worker.printerId, lane.worker.pending]))
  }

  /** Bytes of job data waiting or printing, per printer id. */
  pendingBytes (): Record<string, number> {
    return Object.fromEntries((this.running?.lanes ?? []).map((lane) => [lane.worker.printerId, lane.worker.pendingBytes]))
  }

  async start (): Promise<void> {
    const { config, clock, logger } = this
    const storage = new EventEmitter<{ writable: [problem: string | undefined] }>()
    // One listener per printer lane: more than Node's default of 10 is no leak.
    storage.setMaxListeners(config.PRINTERS.length)
    const spool = new JobSpool({
      dir: path.resolve(config.STATE_DIR),
      logger,
      dedupeWindow: config.DEDUPE_WINDOW,
      clock,
      recoveryMs: { min: config.RETRY_MIN_MS, max: config.RETRY_MAX_MS },
      onWritable: (problem) => storage.emit('writable', problem)
    })
    const brokerClock = new BrokerClock({ clock, logger, waitMs: config.SERVER_TIME_WAIT_MS })
    // With METRICS_PORT: the relay's metrics, read from the lanes (made below) at each scrape.
    const metrics: RelayMetrics | undefined = config.METRICS_PORT === undefined
      ? undefined
      : new RelayMetrics({
        port: config.METRICS_PORT,
        host: config.METRICS_HOST,
        logger,
        lanes: () => lanes.map(({ worker, link }) => ({
          printerId: worker.printerId,
          queuedJobs: () => worker.pending,
          queuedBytes: () => worker.pendingBytes,
          state: () => worker.currentState().state,
          brokerConnected: () => link.connected
        }))
      })
    const lanes = config.PRINTERS.map((printer) => buildPrinterLane({ config, printer, logger, spool, brokerClock, clock, storage, onOutcome: metrics === undefined ? undefined : (message) => metrics.outcome(message) }))
    const workers: Part = {
      // Together: each checks that its printer can be reached, which may take PRINTER_CONNECT_TIMEOUT_MS. All
      // have finished starting (or failed) before a failure is thrown, so that the stop after it finds none still
      // starting, which would carry on against a closed spool.
      start: async () => {
        const started = await Promise.allSettled(lanes.map((lane) => lane.worker.start()))
        const failed = started.find((result) => result.status === 'rejected')
        if (failed !== undefined) throw failed.reason
      },
      stop: async () => { await Promise.all(lanes.map((lane) => lane.worker.stop())) }
    }
    const links = lanes.map((lane): Part => ({
      start: () => lane.link.start(),
      stop: async () => {
        await lane.legacy.stop()
        await lane.link.stop()
      }
    }))
    // The metrics first: a METRICS_PORT already taken stops the relay before it takes any job.
    await startParts([...(metrics === undefined ? [] : [metrics]), spool, brokerClock, workers, ...links], logger)
    this.running = { spool, brokerClock, lanes, metrics }
    logger.info({
      relayId: config.RELAY_ID,
      broker: config.MQTT_URL,
      printers: config.PRINTERS.map((p) => `${p.id}=${p.host}:${p.port}`),
      stateDir: path.resolve(config.STATE_DIR)
    }, 'relay started')
  }

  async stop (): Promise<void> {
    const running = this.running
    this.running = undefined
    if (running === undefined) return
    // Stop taking jobs first, then let each printer finish its current attempt, then close the spool.
    await Promise.all(running.lanes.map(async (lane) => {
      await lane.legacy.stop()
      await lane.link.stop()
      await lane.worker.stop()
    }))
    await running.brokerClock.stop()
    await running.spool.stop()
    await running.metrics?.stop()
    this.logger.info('relay stopped')
  }
}
