/**
 * The relay: a durable spool shared by all its printers, and for each printer in PRINTERS a queue
 * (PrinterWorker) and its own MQTT connection (BrokerLink), so a slow or dead printer never delays another.
 */
import path from 'node:path'
import type { Logger } from '../runtime/logger.ts'
import { BrokerClock } from './brokerClock.ts'
import { BrokerLink } from './brokerLink.ts'
import { systemClock, type Clock } from './clock.ts'
import type { RelayConfig } from './config.ts'
import { PrinterWorker } from './printerWorker.ts'
import { LegacySession } from './legacySession.ts'
import { JobSpool, type OutboxEntry } from './spool.ts'

export interface RelayDeps {
  config: RelayConfig
  logger: Logger
  /** The relay's clocks (default: the system's); tests skew or advance them. */
  clock?: Clock
}

interface PrinterLane {
  worker: PrinterWorker
  link: BrokerLink
  legacy: LegacySession
}

export class Relay {
  private readonly config: RelayConfig
  private readonly logger: Logger
  private readonly clock: Clock
  private spool: JobSpool | undefined
  private brokerClock: BrokerClock | undefined
  private lanes: PrinterLane[] = []

  constructor (deps: RelayDeps) {
    this.config = deps.config
    this.logger = deps.logger
    this.clock = deps.clock ?? systemClock
  }

  /** Jobs waiting or printing, per printer id. */
  pending (): Record<string, number> {
    return Object.fromEntries(this.lanes.map((lane) => [lane.worker.printerId, lane.worker.pending]))
  }

  /** Bytes of job data waiting or printing, per printer id. */
  pendingBytes (): Record<string, number> {
    return Object.fromEntries(this.lanes.map((lane) => [lane.worker.printerId, lane.worker.pendingBytes]))
  }

  async start (): Promise<void> {
    const { config, clock } = this
    const spool = new JobSpool({
      dir: path.resolve(config.STATE_DIR),
      logger: this.logger,
      dedupeWindow: config.DEDUPE_WINDOW,
      clock,
      recoveryMs: { min: config.RETRY_MIN_MS, max: config.RETRY_MAX_MS },
      onWritable: (problem) => {
        for (const lane of this.lanes) {
          lane.worker.storageChanged()
          // The jobs withheld while the disk was full come again over a new connection.
          if (problem === undefined) lane.link.resume()
        }
      }
    })
    await spool.start()
    this.spool = spool
    const brokerClock = new BrokerClock({ clock, logger: this.logger, waitMs: config.SERVER_TIME_WAIT_MS })
    await brokerClock.start()
    this.brokerClock = brokerClock
    this.lanes = config.PRINTERS.map((printer) => {
      const logger = this.logger.child({ printerId: printer.id })
      let link: BrokerLink | undefined
      const deliver = (entry: OutboxEntry): void => {
        link?.publishOutcome(entry.outcome.message, entry.outcome.kind, () => {
          void spool.published(entry)
            .catch((error: unknown) => logger.warn({ err: error }, 'could not clear a published outcome from the outbox'))
        })
      }
      const worker = new PrinterWorker({
        config,
        printer,
        logger,
        spool,
        brokerClock,
        clock,
        sink: {
          deliver,
          announce: (message) => link?.publishOutcome(message, 'error', () => {}),
          publishStatus: (state, detail) => link?.publishStatus(state, detail)
        }
      })
      const legacy = new LegacySession({ config, printerId: printer.id, logger, onJob: (payload) => worker.accept(payload) })
      link = new BrokerLink({
        config,
        printerId: printer.id,
        logger,
        onJob: (payload) => worker.accept(payload),
        onWithheld: (payload) => worker.withheld(payload),
        onRetainedJob: (payload) => worker.refuseRetained(payload),
        currentState: () => worker.currentState(),
        onServerTime: (payload) => brokerClock.observe(payload),
        onConnect: (first) => {
          // Outcomes stored by an earlier run that the broker never acknowledged. (Within one run,
          // mqtt.js itself resends what was in flight when the connection dropped.)
          if (!first) return
          // Subscribed under its own id: the session of an earlier version can go (legacySession.ts).
          legacy.start()
          spool.unpublished(printer.id).then(
            (entries) => { for (const entry of entries) deliver(entry) },
            (error: unknown) => logger.error({ err: error }, 'could not read the outbox')
          )
        }
      })
      return { worker, link, legacy }
    })
    await Promise.all(this.lanes.map((lane) => lane.worker.start()))
    for (const lane of this.lanes) await lane.link.start()
    this.logger.info({
      relayId: config.RELAY_ID,
      broker: config.MQTT_URL,
      printers: config.PRINTERS.map((p) => `${p.id}=${p.host}:${p.port}`),
      stateDir: path.resolve(config.STATE_DIR)
    }, 'relay started')
  }

  async stop (): Promise<void> {
    // Stop taking jobs first, then let each printer finish its current attempt, then close the spool.
    await Promise.all(this.lanes.map(async (lane) => {
      await lane.legacy.stop()
      await lane.link.stop()
      await lane.worker.stop()
    }))
    this.lanes = []
    await this.brokerClock?.stop()
    this.brokerClock = undefined
    await this.spool?.stop()
    this.spool = undefined
    this.logger.info('relay stopped')
  }
}
