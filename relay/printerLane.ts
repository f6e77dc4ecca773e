/**
 * One printer's parts in a relay: its queue (PrinterWorker), its own MQTT connection (BrokerLink), and the
 * ending of an earlier relay version's session (LegacySession), built in that order. The link's jobs reach the
 * worker through its methods; what the worker publishes reaches the link through an emitter, so that neither
 * needs the other before it exists.
 */
import { EventEmitter } from 'node:events'
import type { JobErrorMessage, JobResult } from '../protocol/index.ts'
import type { Logger } from '../runtime/logger.ts'
import type { BrokerClock } from './brokerClock.ts'
import { BrokerLink } from './brokerLink.ts'
import type { Clock } from './clock.ts'
import type { PrinterAddress, RelayConfig } from './config.ts'
import { LegacySession } from './legacySession.ts'
import { PrinterWorker } from './printerWorker.ts'
import type { StatusReport } from './printerStatus.ts'
import type { JobSpool } from './spool.ts'
import type { OutboxEntry } from './spoolLayout.ts'

export interface PrinterLaneDeps {
  config: RelayConfig
  printer: PrinterAddress
  logger: Logger
  spool: JobSpool
  brokerClock: BrokerClock
  clock: Clock
  /** Says when the spool stops or starts being able to write (`problem`, or undefined once it can). */
  storage: EventEmitter<{ writable: [problem: string | undefined] }>
  /** Told of each result or error as it is published (the relay's metrics, relayMetrics.ts). */
  onOutcome?: ((message: JobResult | JobErrorMessage) => void) | undefined
}

/** What a printer's worker publishes: stored outcomes, errors it could not store, and the printer's state. */
interface Outgoing {
  stored: [entry: OutboxEntry]
  unstored: [message: JobErrorMessage]
  status: [report: StatusReport]
}

export interface PrinterLane {
  worker: PrinterWorker
  link: BrokerLink
  legacy: LegacySession
}

export function buildPrinterLane (deps: PrinterLaneDeps): PrinterLane {
  const { config, printer, spool, brokerClock, clock, storage } = deps
  const logger = deps.logger.child({ printerId: printer.id })
  const outgoing = new EventEmitter<Outgoing>()
  const worker = new PrinterWorker({
    config,
    printer,
    logger,
    spool,
    brokerClock,
    clock,
    sink: {
      deliver: (entry) => outgoing.emit('stored', entry),
      deliverUnstored: (message) => outgoing.emit('unstored', message),
      publishStatus: (report) => outgoing.emit('status', report)
    }
  })
  const legacy = new LegacySession({ config, printerId: printer.id, logger, onJob: (payload) => worker.accept(payload) })
  const link = new BrokerLink({
    config,
    printerId: printer.id,
    logger,
    onJob: (payload) => worker.accept(payload),
    onCancel: (payload) => worker.cancel(payload),
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
        (entries) => { for (const entry of entries) outgoing.emit('stored', entry) },
        (error: unknown) => logger.error({ err: error }, 'could not read the outbox')
      )
    }
  })
  outgoing.on('stored', (entry) => {
    deps.onOutcome?.(entry.outcome.message)
    link.publishOutcome(entry.outcome.message, entry.outcome.kind, () => {
      void spool.published(entry).catch((error: unknown) => logger.warn({ err: error }, 'could not clear a published outcome from the outbox'))
    })
  })
  outgoing.on('unstored', (message) => {
    deps.onOutcome?.(message)
    link.publishOutcome(message, 'error', () => {})
  })
  outgoing.on('status', (report) => link.publishStatus(report.state, report.detail, report.queued))
  storage.on('writable', (problem) => {
    worker.storageChanged()
    // The jobs withheld while the disk was full come again over a new connection.
    if (problem === undefined) link.resume()
  })
  return { worker, link, legacy }
}
