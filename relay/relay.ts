/**
 * The relay: for each printer in PRINTERS, a queue (PrinterWorker) and its own MQTT connection
 * (BrokerLink), so a slow or dead printer never delays another.
 */
import type { JobErrorMessage } from '../protocol/index.ts'
import { ERROR_CODES } from '../protocol/index.ts'
import type { Logger } from '../runtime/logger.ts'
import { BrokerLink } from './brokerLink.ts'
import type { RelayConfig } from './config.ts'
import { PrinterWorker } from './printerWorker.ts'

export interface RelayDeps {
  config: RelayConfig
  logger: Logger
}

interface PrinterLane {
  worker: PrinterWorker
  link: BrokerLink
}

export class Relay {
  private readonly config: RelayConfig
  private readonly logger: Logger
  private lanes: PrinterLane[] = []

  constructor (deps: RelayDeps) {
    this.config = deps.config
    this.logger = deps.logger
  }

  /** Jobs waiting or printing, per printer id. */
  pending (): Record<string, number> {
    return Object.fromEntries(this.lanes.map((lane) => [lane.worker.printerId, lane.worker.pending]))
  }

  async start (): Promise<void> {
    const { config } = this
    this.lanes = config.PRINTERS.map((printer) => {
      const logger = this.logger.child({ printerId: printer.id })
      let link: BrokerLink | undefined
      const worker = new PrinterWorker({
        config,
        printer,
        logger,
        sink: {
          publishResult: (result) => link?.publishResult(result),
          publishError: (error) => {
            const message: JobErrorMessage = {
              ...(error.jobId === undefined ? {} : { jobId: error.jobId }),
              printerId: printer.id,
              code: error.code,
              message: error.message,
              retryable: error.retryable ?? ERROR_CODES[error.code].retryable,
              at: new Date().toISOString()
            }
            link?.publishError(message)
          },
          publishStatus: (state, detail) => link?.publishStatus(state, detail)
        }
      })
      link = new BrokerLink({
        config,
        printerId: printer.id,
        logger,
        onJob: (payload) => worker.accept(payload),
        currentState: () => worker.currentState()
      })
      return { worker, link }
    })
    await Promise.all(this.lanes.map((lane) => lane.worker.start()))
    for (const lane of this.lanes) await lane.link.start()
    this.logger.info({
      relayId: config.RELAY_ID,
      broker: config.MQTT_URL,
      printers: config.PRINTERS.map((p) => `${p.id}=${p.host}:${p.port}`)
    }, 'relay started')
  }

  async stop (): Promise<void> {
    await Promise.all(this.lanes.map(async (lane) => {
      await lane.worker.stop()
      await lane.link.stop()
    }))
    this.lanes = []
    this.logger.info('relay stopped')
  }
}
